namespace Portal.E2E.Fixtures;

/// <summary>The demo accounts of shared/api.md.</summary>
public static class DemoUsers
{
    public const string Scientist = "scientist@demo.local";
    public const string Reviewer = "reviewer@demo.local";
    public const string Reviewer2 = "reviewer2@demo.local";
    public const string Ops = "ops@demo.local";
    public const string Admin = "admin@demo.local";
    public const string Viewer = "viewer@demo.local";
}
