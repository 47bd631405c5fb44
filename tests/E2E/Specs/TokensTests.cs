using System.Net;
using System.Net.Http.Headers;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class TokensTests(PortalServer portal)
{
    [Fact]
    public async Task TokenCreatedInTheBrowser_WorksForScripts_UntilRevoked()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/account/tokens");
        var name = $"notebook-{Guid.NewGuid():N}"[..16];

        await page.GetByLabel("Name").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create token" }).ClickAsync();
        var secret = (await page.GetByTestId("new-token-secret").InnerTextAsync()).Trim();
        await Screenshots.SaveAsync(page, "access-tokens");

        using var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", secret);
        var me = await http.GetStringAsync("/api/v1/me");
        Assert.Contains("scientist@demo.local", me);

        var row = page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = name });
        await row.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = $"Revoke {name}" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Revoke", Exact = true }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("Revoked");

        var refused = await http.GetAsync("/api/v1/me");
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Contains("revoked", await refused.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task TokenWithoutName_IsNotCreated_AndTheFieldSaysWhy()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/account/tokens");

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Create token" }).ClickAsync();

        await Assertions.Expect(page.GetByText("Give the token a name")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByTestId("new-token-secret")).ToHaveCountAsync(0);
    }
}
