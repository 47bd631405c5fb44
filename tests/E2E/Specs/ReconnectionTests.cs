using System.Text.RegularExpressions;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class ReconnectionTests(PortalServer portal)
{
    [Fact]
    public async Task ANetworkBlip_ShowsTheReconnectDialog_ThenThePageComesBackWithoutAReload()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        // Blazor's WebSocket passes through the test, which can cut it as a network blip would.
        IWebSocketRoute? connection = null;
        await page.RouteWebSocketAsync(new Regex("/_blazor"), ws =>
        {
            connection = ws;
            ws.ConnectToServer();
        });
        var shell = new ShellPage(page);
        await shell.GotoAsync("/datasets");
        var search = page.GetByLabel("Search datasets");
        await search.FillAsync("credit");
        await page.EvaluateAsync("() => window.__sameDocument = true");

        await connection!.CloseAsync(new() { Code = 4000, Reason = "network blip" });
        await Assertions.Expect(page.Locator("#components-reconnect-modal")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await Screenshots.SaveAsync(page, "reconnecting");
        await Assertions.Expect(page.Locator("#components-reconnect-modal")).ToBeHiddenAsync(new() { Timeout = 60_000 });

        // The same document (no reload), what was typed is still there, and the circuit answers clicks again.
        Assert.True(await page.EvaluateAsync<bool>("() => window.__sameDocument === true"));
        await Assertions.Expect(search).ToHaveValueAsync("credit");
        await shell.ToggleThemeAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Switch to light theme" })).ToBeVisibleAsync();
        await shell.ToggleThemeAsync();
    }
}
