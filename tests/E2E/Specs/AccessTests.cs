using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class AccessTests(PortalServer portal)
{
    [Fact]
    public async Task Viewer_TypingTheAdminAddress_IsRefused()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Viewer);
        var page = await context.NewPageAsync();

        await page.GotoAsync("/admin");

        await page.WaitForURLAsync("**/account/access-denied**");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Access denied" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("requires the role Admin");
        await Assertions.Expect(page.GetByText("People & roles")).ToHaveCountAsync(0);
        await Screenshots.SaveAsync(page, "access-denied");
    }

    [Fact]
    public async Task Viewer_NavigatingToAdminInsideTheSession_IsRefused()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Viewer);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/");

        // Client-side navigation: no request reaches the server's endpoint authorization, the router must refuse.
        await page.EvaluateAsync("Blazor.navigateTo('/admin')");

        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Access denied" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("People & roles")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task Anonymous_IsSentToSignIn_AndBackAfterwards()
    {
        await using var context = await portal.AnonymousContextAsync();
        var page = await context.NewPageAsync();

        await page.GotoAsync("/audit");
        await page.WaitForURLAsync("**/account/login**");
        await new LoginPage(page).SignInAsync(DemoUsers.Reviewer, PortalServer.DemoPassword);

        await page.WaitForURLAsync("**/audit");
        await new ShellPage(page).WaitForInteractiveAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Name = "Audit", Level = 1 })).ToBeVisibleAsync();
    }
}
