namespace Portal.Features.Compute;

/// <summary>The periods the Compute &amp; GPU and Cost pages offer, ending now (or this/last month for costs).</summary>
public sealed record Period(string Key, string Label, Func<DateTime, (DateTime From, DateTime To)> Range)
{
    public static readonly IReadOnlyList<Period> Recent =
    [
        new("1h", "Last hour", now => (now.AddHours(-1), now)),
        new("6h", "Last 6 hours", now => (now.AddHours(-6), now)),
        new("24h", "Last 24 hours", now => (now.AddHours(-24), now)),
        new("7d", "Last 7 days", now => (now.AddDays(-7), now)),
        new("30d", "Last 30 days", now => (now.AddDays(-30), now)),
    ];

    public static readonly IReadOnlyList<Period> Months =
    [
        new("month", "This month", now => (new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc), now.AddMinutes(1))),
        new("last-month", "Last month", now => (new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(-1), new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc))),
        new("7d", "Last 7 days", now => (now.AddDays(-7), now.AddMinutes(1))),
        new("30d", "Last 30 days", now => (now.AddDays(-30), now.AddMinutes(1))),
        new("year", "This year", now => (new DateTime(now.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc), now.AddMinutes(1))),
    ];
}
