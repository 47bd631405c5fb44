namespace Portal.Infrastructure.Persistence;

/// <summary>A demo seeding step that has run against this database, so it never runs twice.</summary>
public sealed class DemoSeedRecord
{
    public required string Step { get; set; }

    public DateTime AppliedAt { get; set; }
}
