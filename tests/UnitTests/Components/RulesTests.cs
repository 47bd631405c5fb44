using System.Security.Claims;
using Portal.Components.Layout;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Lineage;
using Portal.Features.Lineage;
using Portal.Infrastructure.Lineage;
using Portal.Features.Account;
using Portal.Features.Navigation;
using Portal.Features.Notifications;
using Portal.Hubs;
using Portal.Infrastructure.Demo;

namespace Portal.UnitTests.Components;

public class NotificationRulesTests
{
    private static readonly DateTime At = new(2026, 11, 22, 9, 0, 0, DateTimeKind.Utc);
    private readonly Actor _admin = new("ada@x", [Roles.Admin]);
    private readonly Actor _scientist = new("sam@x", [Roles.DataScientist]);

    [Fact]
    public void SomeoneSigningIn_IsShownToAdminsOnly_AndNotToThemselves()
    {
        var signIn = new UserSignedIn("sam@x", "password", At);

        Assert.Equal("sam@x signed in (password).", NotificationRules.Describe(signIn, _admin)!.Detail);
        Assert.Null(NotificationRules.Describe(signIn, _scientist));
        Assert.Null(NotificationRules.Describe(new UserSignedIn("ada@x", "password", At), _admin));
    }

    [Fact]
    public void SecurityEvents_WarnAdmins()
    {
        var refused = new AuditEntryRecorded(AuditActions.TokenRejected, "anonymous", "token:sam@x:1", "revoked", At);

        var note = NotificationRules.Describe(refused, _admin)!;

        Assert.Equal("Access token refused", note.Summary);
        Assert.Equal(LiveSeverity.Warning, note.Severity);
        Assert.Null(NotificationRules.Describe(refused, _scientist));
        Assert.Null(NotificationRules.Describe(new AuditEntryRecorded(AuditActions.TokenIssued, "sam@x", "token:sam@x:1", null, At), _admin));
    }

    [Fact]
    public void RoleChanges_ReachThePersonConcerned()
    {
        var changed = new UserRolesChanged("sam@x", [Roles.Viewer], "ada@x", At);

        Assert.Contains("Viewer", NotificationRules.Describe(changed, _scientist)!.Detail);
        Assert.Null(NotificationRules.Describe(changed, _admin));
    }

    [Fact]
    public void DemoSeeding_CompletionIsForEveryone_FailureForAdmins()
    {
        var done = new DemoSeedingProgressed("x", "x", 3, 3, DemoSeedState.Completed, null, At);
        var failed = new DemoSeedingProgressed("x", "x", 1, 3, DemoSeedState.Failed, "disk full", At);

        Assert.NotNull(NotificationRules.Describe(done, _scientist));
        Assert.Null(NotificationRules.Describe(failed, _scientist));
        Assert.Contains("disk full", NotificationRules.Describe(failed, _admin)!.Detail);
    }
}

public class LiveTopicsTests
{
    [Fact]
    public void GroupsFor_ASubject_AreTheSubjectAndEachPrefix()
    {
        Assert.Equal(["model:credit-risk:3", "model:credit-risk", "model"], LiveTopics.GroupsFor("model:credit-risk:3"));
    }

    [Fact]
    public void AreaTopics_FollowTheAreaRoles()
    {
        var reviewer = Principal("rita@x", Roles.RiskReviewer);
        var ops = Principal("olive@x", Roles.Ops);

        Assert.Null(LiveTopics.WhyNot(reviewer, "approval:12"));
        Assert.NotNull(LiveTopics.WhyNot(ops, "approval:12"));
        Assert.Null(LiveTopics.WhyNot(ops, "endpoint:credit-risk"));
        Assert.Null(LiveTopics.WhyNot(ops, LiveTopics.Demo));
    }

    [Theory]
    [InlineData("")]
    [InlineData("UPPER:1")]
    [InlineData("a b")]
    [InlineData("model:../../x")]
    public void MalformedTopics_AreRefused(string topic)
    {
        Assert.Contains("is not a topic", LiveTopics.WhyNot(Principal("a@x", Roles.Admin), topic));
    }

    private static ClaimsPrincipal Principal(string name, string role) =>
        new(new ClaimsIdentity([new Claim(ClaimTypes.Name, name), new Claim(ClaimTypes.Role, role)], "test", ClaimTypes.Name, ClaimTypes.Role));
}

public class NavigationRulesTests
{
    [Fact]
    public void EveryRole_HasHome_AndOnlyAdminsHaveAdmin()
    {
        foreach (var role in Roles.All)
        {
            var areas = PortalAreas.For([role]).Select(a => a.Key).ToList();
            Assert.Equal("home", areas[0]);
            Assert.Equal(role == Roles.Admin, areas.Contains("admin"));
        }
    }

    [Fact]
    public void Viewer_SeesNoAreaWhereThingsAreChanged()
    {
        var keys = PortalAreas.For([Roles.Viewer]).Select(a => a.Key).ToList();

        Assert.DoesNotContain("jobs", keys);
        Assert.DoesNotContain("reviews", keys);
        Assert.DoesNotContain("admin", keys);
    }

    [Fact]
    public void EveryoneWhoSeesLineage_CanOpenWhatItsNodesLinkTo()
    {
        // Dataset nodes open the dataset version; every other node re-centres the lineage page.
        var lineage = PortalAreas.ByKey("lineage").Roles;

        Assert.Empty(lineage.Except(PortalAreas.ByKey("datasets").Roles));
        Assert.Equal("/datasets/credit-risk/versions/2", LineageLayout.LinkOf(new LineageNode("dataset:credit-risk:2", ArtifactKind.Dataset, "credit-risk v2")));
    }

    [Fact]
    public void Ops_ReadsTheDataAndRunsBehindWhatTheyServe_ButChangesNeither()
    {
        var keys = PortalAreas.For([Roles.Ops]).Select(a => a.Key).ToList();

        Assert.Contains("datasets", keys);
        Assert.Contains("experiments", keys);
        Assert.DoesNotContain("jobs", keys);
        Assert.False(new Actor("ops@demo.local", [Roles.Ops]).BuildsModels);
    }

    [Fact]
    public void EveryAreaButHome_HasAPolicyAndAPage()
    {
        var routes = typeof(Program).Assembly.GetTypes()
            .SelectMany(t => t.GetCustomAttributes(typeof(Microsoft.AspNetCore.Components.RouteAttribute), false))
            .Cast<Microsoft.AspNetCore.Components.RouteAttribute>().Select(r => r.Template).ToHashSet();

        foreach (var area in PortalAreas.All)
        {
            Assert.Contains(area.Path, routes);
            Assert.True(area == PortalAreas.Home || area.Policy is not null, $"{area.Key} has no policy");
        }
    }

    [Theory]
    [InlineData("", "Home")]
    [InlineData("admin", "Home>Admin")]
    [InlineData("account/tokens", "Home>Account>Access tokens")]
    [InlineData("datasets/credit-risk/versions/2?tab=profile", "Home>Datasets>credit-risk>Versions>2")]
    public void Breadcrumbs_FollowTheAddress(string path, string expected)
    {
        var crumbs = Breadcrumbs.For(path);

        Assert.Equal(expected, string.Join(">", crumbs.Select(c => c.Text)));
        Assert.Null(crumbs[^1].Path);
    }

    [Fact]
    public void Breadcrumbs_LinkOnlyToAddressesWherePagesExist()
    {
        var crumbs = Breadcrumbs.For("account/tokens");

        Assert.Equal("/", crumbs[0].Path);
        Assert.Null(crumbs[1].Path); // there is no /account page
    }

    [Theory]
    [InlineData("/audit", "/audit")]
    [InlineData("/admin?x=1", "/admin?x=1")]
    [InlineData("https://evil.example/", "/")]
    [InlineData("//evil.example/", "/")]
    [InlineData("/\\evil.example", "/")]
    [InlineData("/account/logout", "/")]
    [InlineData(null, "/")]
    public void SignIn_OnlyReturnsToPagesOfThisSite(string? returnUrl, string expected)
    {
        Assert.Equal(expected, Login.LocalReturnUrl(returnUrl));
    }
}

public class UnauthenticatedCallNotificationTests
{
    [Fact]
    public void AnonymousCalls_AreNotToastedToAdmins()
    {
        var call = new AuditEntryRecorded(AuditActions.UnauthenticatedCall, "anonymous", "route:GET /api/v1/me", "no credentials", DateTime.UtcNow);

        Assert.Null(NotificationRules.Describe(call, new Actor("ada@x", [Roles.Admin])));
    }
}
