namespace Portal.Domain.Identity;

/// <summary>The roles of design.md §7: what a person is here to do.</summary>
public static class Roles
{
    public const string DataScientist = nameof(DataScientist);
    public const string RiskReviewer = nameof(RiskReviewer);
    public const string Ops = nameof(Ops);
    public const string Admin = nameof(Admin);
    public const string Viewer = nameof(Viewer);

    public static IReadOnlyList<string> All { get; } = [DataScientist, RiskReviewer, Ops, Admin, Viewer];

    public static bool IsKnown(string role) => All.Contains(role, StringComparer.Ordinal);

    public static string Describe(string role) => role switch
    {
        DataScientist => "Registers data, runs experiments and registers models.",
        RiskReviewer => "Reviews model versions and approves or rejects them.",
        Ops => "Runs deployments, watches latency, drift, GPU use and cost.",
        Admin => "Manages users, roles, policies and backends.",
        Viewer => "Reads everything they are shown; changes nothing.",
        _ => "Unknown role.",
    };
}
