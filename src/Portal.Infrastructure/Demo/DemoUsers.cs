using Portal.Domain.Identity;

namespace Portal.Infrastructure.Demo;

/// <summary>The demo accounts of shared/api.md, one or two per role.</summary>
public static class DemoUsers
{
    public static IReadOnlyList<DemoUser> All { get; } =
    [
        new("scientist@demo.local", "Sam Scientist", "credit-risk", Roles.DataScientist),
        new("reviewer@demo.local", "Riley Reviewer", "model-risk", Roles.RiskReviewer),
        new("reviewer2@demo.local", "Robin Reviewer", "model-risk", Roles.RiskReviewer),
        new("ops@demo.local", "Olive Ops", "ml-platform", Roles.Ops),
        new("admin@demo.local", "Ada Admin", "ml-platform", Roles.Admin),
        new("viewer@demo.local", "Vic Viewer", "finance", Roles.Viewer),
    ];
}

public sealed record DemoUser(string Email, string DisplayName, string Team, string Role);
