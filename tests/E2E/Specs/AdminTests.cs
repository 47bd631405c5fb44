using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class AdminTests(PortalServer portal)
{
    [Fact]
    public async Task Admin_CreatesAPerson_WhoCanThenSignIn()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Admin);
        var page = await context.NewPageAsync();
        var admin = new AdminPage(page);
        await admin.GotoAsync();
        await Assertions.Expect(admin.RowOf("reviewer2@demo.local")).ToContainTextAsync("RiskReviewer");
        await Screenshots.SaveAsync(page, "admin-people");
        var email = $"dana-{Guid.NewGuid():N}"[..13] + "@demo.local";

        await admin.OpenNewPersonAsync();
        await admin.FillNewPersonAsync("not an e-mail", "Dana", "short");
        await admin.SubmitNewPersonAsync();
        await Assertions.Expect(admin.Dialog.GetByText("Enter an e-mail address")).ToBeVisibleAsync();
        await Assertions.Expect(admin.Dialog.GetByText("Choose at least one role.")).ToBeVisibleAsync();

        await admin.FillNewPersonAsync(email, "Dana Data", "Dana-Passw0rd-2026", "DataScientist", "Ops");
        await admin.SubmitNewPersonAsync();
        await Assertions.Expect(admin.Dialog).ToHaveCountAsync(0);
        await admin.SearchAsync(email);
        // Every role shows, and the whole user name, not a clipped one.
        await Assertions.Expect(admin.RowOf(email).GetByText("DataScientist", new LocatorGetByTextOptions { Exact = true })).ToBeVisibleAsync();
        await Assertions.Expect(admin.RowOf(email).GetByText("Ops", new LocatorGetByTextOptions { Exact = true })).ToBeInViewportAsync();
        var nameCell = admin.RowOf(email).Locator("td").First;
        Assert.True(await nameCell.EvaluateAsync<bool>("td => td.scrollWidth <= td.clientWidth + 1"), "the user name is clipped");

        await using var fresh = await portal.AnonymousContextAsync();
        var freshPage = await fresh.NewPageAsync();
        var login = new LoginPage(freshPage);
        await login.GotoAsync();
        await login.SignInAsync(email, "Dana-Passw0rd-2026");
        await new ShellPage(freshPage).WaitForInteractiveAsync();
        await Assertions.Expect(freshPage.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToHaveTextAsync("Welcome, Dana Data");
    }

    [Fact]
    public async Task Admin_SortsPeopleOnTheServer()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Admin);
        var page = await context.NewPageAsync();
        var admin = new AdminPage(page);
        await admin.GotoAsync();

        await page.GetByRole(AriaRole.Columnheader, new PageGetByRoleOptions { Name = "User name" }).ClickAsync();
        await page.GetByRole(AriaRole.Columnheader, new PageGetByRoleOptions { Name = "User name" }).ClickAsync();

        var first = admin.Grid.Locator("tbody tr").First;
        await Assertions.Expect(first).ToContainTextAsync("viewer@demo.local");
    }
}
