namespace Portal.E2E.Pages;

/// <summary>Datasets: list, version page tabs, registration form.</summary>
public sealed class DatasetPages(IPage page)
{
    public ILocator Grid(string label) => page.GetByLabel(label, new PageGetByLabelOptions { Exact = true });

    public ILocator Tab(string name) => page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { NameRegex = new($"^{System.Text.RegularExpressions.Regex.Escape(name)}") });

    public ILocator Charts => page.Locator(".portal-chart[data-rendered='true']");

    public async Task OpenTabAsync(string name)
    {
        await Tab(name).ClickAsync();
    }

    public async Task RegisterAsync(string dataset, string filePath, string? description = null)
    {
        await page.GetByLabel("Dataset name").FillAsync(dataset);
        if (description is not null)
        {
            await page.GetByLabel("Description of this version").FillAsync(description);
        }

        await page.GetByLabel("Dataset file").SetInputFilesAsync(filePath);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Register" }).ClickAsync();
    }
}
