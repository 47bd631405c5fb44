using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class SignInTests(PortalServer portal)
{
    [Fact]
    public async Task WrongPassword_ShowsAClearMessage_AndStaysOnSignIn()
    {
        await using var context = await portal.AnonymousContextAsync();
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();
        await Screenshots.SaveAsync(page, "sign-in");

        await login.SignInAsync(DemoUsers.Reviewer2, "not-the-password");

        await Assertions.Expect(login.Problem).ToHaveTextAsync("Invalid user name or password.");
        Assert.Contains("/account/login", page.Url);
    }

    [Fact]
    public async Task EmptyForm_NamesEachMissingField()
    {
        await using var context = await portal.AnonymousContextAsync();
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();

        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync();

        await Assertions.Expect(page.GetByText("Enter your e-mail address.")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByText("Enter your password.")).ToBeVisibleAsync();
    }

    [Fact]
    public async Task SignOut_EndsTheSession()
    {
        await using var context = await portal.AnonymousContextAsync();
        var page = await context.NewPageAsync();
        var login = new LoginPage(page);
        await login.GotoAsync();
        await login.SignInAsync(DemoUsers.Reviewer2, PortalServer.DemoPassword);
        var shell = new ShellPage(page);
        await shell.WaitForInteractiveAsync();

        await shell.SignOutAsync();
        await page.GotoAsync("/");

        await page.WaitForURLAsync("**/account/login**");
    }
}
