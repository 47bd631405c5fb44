namespace Portal.E2E.Pages;

public sealed class LoginPage(IPage page)
{
    public ILocator Email => page.GetByLabel("E-mail");

    public ILocator Password => page.GetByLabel("Password", new PageGetByLabelOptions { Exact = true });

    public ILocator Problem => page.GetByRole(AriaRole.Alert);

    public async Task GotoAsync(string? returnUrl = null)
    {
        await page.GotoAsync(returnUrl is null ? "/account/login" : $"/account/login?returnUrl={Uri.EscapeDataString(returnUrl)}");
    }

    public async Task SignInAsync(string userName, string password)
    {
        await Email.FillAsync(userName);
        await Password.FillAsync(password);
        // The form posts and the server answers with a redirect or the page with its message; wait for that answer.
        await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Sign in" }).ClickAsync(),
            r => r.Request.Method == "POST" && r.Url.Contains("/account/login", StringComparison.Ordinal));
        await page.WaitForLoadStateAsync(LoadState.DOMContentLoaded);
    }
}
