using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class AuditTests(PortalServer portal)
{
    [Fact]
    public async Task Reviewer_FindsSecurityEvents_AndVerifiesTheChain()
    {
        // A refused sign-in to look for.
        await using (var other = await portal.AnonymousContextAsync())
        {
            var otherPage = await other.NewPageAsync();
            var login = new LoginPage(otherPage);
            await login.GotoAsync();
            await login.SignInAsync(DemoUsers.Ops, "wrong-password-for-audit");
        }

        await using var context = await portal.ContextAsAsync(DemoUsers.Reviewer);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/audit?action=security.");

        var rows = page.GetByLabel("Audit entries").Locator("tbody tr");
        await Assertions.Expect(rows.Filter(new LocatorFilterOptions { HasText = "user:ops@demo.local" }).First).ToContainTextAsync("security.sign-in-failed");
        Assert.DoesNotContain(await rows.AllInnerTextsAsync(), r => r.Contains("token.issued", StringComparison.Ordinal));

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Verify chain" }).ClickAsync();

        await Assertions.Expect(page.GetByText(new System.Text.RegularExpressions.Regex(@"Chain verified: all \d+ entries are unbroken"))).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "audit");
    }
}
