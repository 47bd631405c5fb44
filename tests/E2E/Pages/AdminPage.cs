namespace Portal.E2E.Pages;

/// <summary>Admin → People &amp; roles.</summary>
public sealed class AdminPage(IPage page)
{
    public ILocator Grid => page.GetByLabel("People", new PageGetByLabelOptions { Exact = true });

    public ILocator Dialog => page.GetByRole(AriaRole.Dialog);

    public Task GotoAsync() => new ShellPage(page).GotoAsync("/admin");

    public async Task SearchAsync(string text)
    {
        await page.GetByLabel("Search people").FillAsync(text);
    }

    public ILocator RowOf(string userName) => page.GetByRole(AriaRole.Row).Filter(new LocatorFilterOptions { HasText = userName });

    public async Task OpenNewPersonAsync()
    {
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "New person" }).ClickAsync();
        await Dialog.WaitForAsync();
    }

    public async Task FillNewPersonAsync(string email, string displayName, string password, params string[] roles)
    {
        await Dialog.GetByLabel("E-mail (user name)").FillAsync(email);
        await Dialog.GetByLabel("Display name").FillAsync(displayName);
        await Dialog.GetByLabel("Initial password").FillAsync(password);
        foreach (var role in roles)
        {
            await Dialog.GetByText(role, new LocatorGetByTextOptions { Exact = true }).ClickAsync();
        }
    }

    public Task SubmitNewPersonAsync() =>
        Dialog.GetByRole(AriaRole.Button, new LocatorGetByRoleOptions { Name = "Create" }).ClickAsync();
}
