using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class ThemeTests(PortalServer portal)
{
    [Fact]
    public async Task DarkTheme_Toggles_AndFollowsThePersonToANewBrowser()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Ops);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/");
        await Assertions.Expect(shell.Layout).ToHaveAttributeAsync("data-theme", "light");
        var lightBackground = await BackgroundAsync(page);

        await shell.ToggleThemeAsync();

        await Assertions.Expect(shell.Layout).ToHaveAttributeAsync("data-theme", "dark");
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Switch to light theme" })).ToBeVisibleAsync();
        await page.WaitForFunctionAsync("bg => getComputedStyle(document.body).backgroundColor !== bg", lightBackground);
        await Screenshots.SaveAsync(page, "home-ops-dark");

        // A reload, and a brand-new browser session, open dark straight from the server.
        await page.ReloadAsync();
        await Assertions.Expect(shell.Layout).ToHaveAttributeAsync("data-theme", "dark");
        await using (var fresh = await portal.ContextAsAsync(DemoUsers.Ops))
        {
            var other = await fresh.NewPageAsync();
            await other.GotoAsync("/");
            await Assertions.Expect(other.Locator(".portal-layout")).ToHaveAttributeAsync("data-theme", "dark");
        }

        // Back to light, so other tests' screenshots keep the default look.
        await shell.WaitForInteractiveAsync();
        await shell.ToggleThemeAsync();
        await Assertions.Expect(shell.Layout).ToHaveAttributeAsync("data-theme", "light");
        await page.ReloadAsync();
        await Assertions.Expect(shell.Layout).ToHaveAttributeAsync("data-theme", "light");
    }

    private static Task<string> BackgroundAsync(IPage page) =>
        page.EvaluateAsync<string>("() => getComputedStyle(document.body).backgroundColor");
}
