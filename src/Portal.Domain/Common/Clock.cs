namespace Portal.Domain.Common;

public static class Clock
{
    /// <summary>
    /// Now, cut to whole microseconds: the finest time both SQLite and PostgreSQL keep, so a value
    /// compares (and hashes) the same after a round trip through either database.
    /// </summary>
    public static DateTime UtcNow(this TimeProvider time) => Truncate(time.GetUtcNow().UtcDateTime);

    public static DateTime Truncate(DateTime value) =>
        new(value.Ticks - (value.Ticks % 10), DateTimeKind.Utc);
}
