using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class NavigationTests(PortalServer portal)
{
    public static TheoryData<string, string[], string> RoleNavigation => new()
    {
        { DemoUsers.Scientist, ["Home", "Datasets", "Experiments", "Jobs & Sweeps", "Models", "Deployments", "Compute & GPU", "Lineage"], "home-data-scientist" },
        { DemoUsers.Reviewer, ["Home", "Datasets", "Experiments", "Models", "Reviews", "Lineage", "Audit"], "home-risk-reviewer" },
        { DemoUsers.Ops, ["Home", "Datasets", "Experiments", "Models", "Deployments", "Compute & GPU", "Cost", "Lineage"], "home-ops" },
        { DemoUsers.Viewer, ["Home", "Datasets", "Experiments", "Models", "Deployments", "Lineage"], "home-viewer" },
        { DemoUsers.Admin, ["Home", "Datasets", "Experiments", "Jobs & Sweeps", "Models", "Reviews", "Deployments", "Compute & GPU", "Cost", "Lineage", "Audit", "Admin"], "home-admin" },
    };

    [Theory]
    [MemberData(nameof(RoleNavigation))]
    public async Task EachRole_SeesOnlyItsNavigation_AndItsRoleBadge(string user, string[] expected, string screenshot)
    {
        await using var context = await portal.ContextAsAsync(user);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);

        await shell.GotoAsync("/");

        Assert.Equal(expected, await shell.NavigationItemsAsync());
        Assert.Contains("Welcome", await shell.Heading.InnerTextAsync());
        await Assertions.Expect(page.Locator(".portal-user")).ToContainTextAsync(user);
        await Screenshots.SaveAsync(page, screenshot);
    }

    [Fact]
    public async Task ComputeAndGpu_OpensTheFleetDashboard_FromTheNavigation()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/");

        await shell.Navigation.GetByText("Compute & GPU").ClickAsync();

        await page.WaitForURLAsync("**/compute");
        await Assertions.Expect(shell.Heading).ToHaveTextAsync("Compute & GPU");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Busy percent of each GPU over the period" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Breadcrumb")).ToContainTextAsync("Compute & GPU");
    }
}
