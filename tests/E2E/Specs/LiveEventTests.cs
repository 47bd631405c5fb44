using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class LiveEventTests(PortalServer portal)
{
    [Fact]
    public async Task AdminSeesAnotherPersonSignInLive()
    {
        await using var adminContext = await portal.ContextAsAsync(DemoUsers.Admin);
        var adminPage = await adminContext.NewPageAsync();
        var admin = new ShellPage(adminPage);
        await admin.GotoAsync("/");

        // Somebody else signs in, in another browser.
        await using var otherContext = await portal.AnonymousContextAsync();
        var otherPage = await otherContext.NewPageAsync();
        var login = new LoginPage(otherPage);
        await login.GotoAsync();
        await login.SignInAsync(DemoUsers.Scientist, PortalServer.DemoPassword);

        // No reload on the admin's page: the event arrives over the circuit.
        await Assertions.Expect(admin.Toasts.Filter(new LocatorFilterOptions { HasText = "scientist@demo.local signed in" }))
            .ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 10_000 });
        await Assertions.Expect(admin.NotificationBell).ToHaveAttributeAsync("aria-label", new System.Text.RegularExpressions.Regex(@"Notifications, [1-9]\d* unread"));
        await admin.NotificationBell.ClickAsync();
        await Assertions.Expect(adminPage.GetByRole(AriaRole.Region, new PageGetByRoleOptions { Name = "Notifications" }))
            .ToContainTextAsync("scientist@demo.local signed in (password).");
        await Screenshots.SaveAsync(adminPage, "live-notification");
    }

    [Fact]
    public async Task AdminSeesAFailedSignInCountedLiveOnHome()
    {
        await using var adminContext = await portal.ContextAsAsync(DemoUsers.Admin);
        var adminPage = await adminContext.NewPageAsync();
        await new ShellPage(adminPage).GotoAsync("/");
        var counter = adminPage.GetByTestId("security-events-24h");
        var before = int.Parse(await counter.InnerTextAsync(), System.Globalization.CultureInfo.InvariantCulture);

        await using var otherContext = await portal.AnonymousContextAsync();
        var otherPage = await otherContext.NewPageAsync();
        var login = new LoginPage(otherPage);
        await login.GotoAsync();
        await login.SignInAsync("nobody@demo.local", "guessing-passwords");

        await Assertions.Expect(counter).ToHaveTextAsync((before + 1).ToString(System.Globalization.CultureInfo.InvariantCulture),
            new LocatorAssertionsToHaveTextOptions { Timeout = 10_000 });
    }
}
