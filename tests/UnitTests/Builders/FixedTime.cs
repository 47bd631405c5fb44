namespace Portal.UnitTests.Builders;

/// <summary>A clock the test moves by hand.</summary>
public sealed class FixedTime(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public FixedTime()
        : this(new DateTimeOffset(2026, 11, 22, 9, 30, 0, TimeSpan.Zero))
    {
    }

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
