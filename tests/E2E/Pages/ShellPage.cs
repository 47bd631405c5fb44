namespace Portal.E2E.Pages;

/// <summary>What every signed-in page has: navigation, user menu, theme toggle, notifications.</summary>
public sealed class ShellPage(IPage page)
{
    public IPage Page => page;

    public ILocator Navigation => page.GetByRole(AriaRole.Navigation, new PageGetByRoleOptions { Name = "Main navigation" });

    public ILocator Heading => page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 });

    /// <summary>The layout says which theme it was rendered in (light or dark), on the server as well as live.</summary>
    public ILocator Layout => page.Locator(".portal-layout");

    public ILocator NotificationBell => page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { NameRegex = new("^Notifications") });

    public ILocator Toasts => page.Locator(".mud-snackbar");

    public async Task GotoAsync(string path)
    {
        await page.GotoAsync(path);
        await WaitForInteractiveAsync();
    }

    /// <summary>Waits until the live circuit has taken over the prerendered page, so clicks are handled.</summary>
    public Task WaitForInteractiveAsync() =>
        page.Locator("[data-interactive='true']").WaitForAsync(new LocatorWaitForOptions { Timeout = 20_000 });

    public async Task<IReadOnlyList<string>> NavigationItemsAsync()
    {
        var texts = await Navigation.Locator(".mud-nav-link-text").AllInnerTextsAsync();
        return texts.Select(t => t.Trim()).ToList();
    }

    public Task ToggleThemeAsync() =>
        page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { NameRegex = new("^Switch to (dark|light) theme$") }).ClickAsync();

    public async Task SignOutAsync()
    {
        await page.Locator(".portal-user").ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new PageGetByRoleOptions { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/account/login**");
    }
}
