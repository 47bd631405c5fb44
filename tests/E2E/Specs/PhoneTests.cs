using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

/// <summary>At 390 px (a phone) nothing runs past the screen edge: tab strips scroll, wide tables scroll inside their card.</summary>
[Collection(PortalCollection.Name)]
public class PhoneTests(PortalServer portal)
{
    private const string PageFitsTheScreen = "() => document.documentElement.scrollWidth <= window.innerWidth + 1";

    [Fact]
    public async Task ADatasetVersion_FitsA390PxScreen_WithItsTabsAndValidationRowsReadable()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(390, 844);
        await new ShellPage(page).GotoAsync("/datasets/credit-risk/versions/2");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToContainTextAsync("failed");

        Assert.True(await page.EvaluateAsync<bool>(PageFitsTheScreen), "the page scrolls sideways at 390 px");
        var bell = page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { NameRegex = new System.Text.RegularExpressions.Regex("^Notifications") });
        Assert.True(await bell.EvaluateAsync<bool>("b => b.getBoundingClientRect().bottom <= b.closest('header').getBoundingClientRect().bottom + 1"), "the bell falls out of the app bar");
        var tabs = page.Locator(".portal-tabs .mud-tabs-tabbar").First;
        Assert.True(await tabs.EvaluateAsync<bool>("bar => bar.getBoundingClientRect().right <= window.innerWidth + 1"), "the tab strip runs past the screen");

        await new DatasetPages(page).OpenTabAsync("Validation");
        var rows = page.GetByLabel("Failed checks").Locator("tbody tr");
        await Assertions.Expect(rows.First).ToBeVisibleAsync();
        var tallest = await rows.EvaluateAllAsync<double>("rs => Math.max(...rs.map(r => r.getBoundingClientRect().height))");
        var debug = await rows.EvaluateAllAsync<string>("rs => { const r = rs.reduce((a, b) => a.getBoundingClientRect().height > b.getBoundingClientRect().height ? a : b); return [...r.cells].map(c => Math.round(c.getBoundingClientRect().width) + 'x' + Math.round(c.getBoundingClientRect().height) + ':' + c.innerText.slice(0, 60)).join(' | ') + ' table ' + r.closest('table').getBoundingClientRect().width; }");
        Assert.True(tallest < 200, $"a validation row is {tallest:0} px tall at 390 px: {debug}");
        Assert.True(await page.EvaluateAsync<bool>(PageFitsTheScreen), "the validation table pushes the page sideways");
        await Screenshots.SaveAsync(page, "phone-dataset-validation");
    }

    [Fact]
    public async Task ComparingTwoModelVersions_ShowsBothColumnsOrLetsThemScrollIntoView()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await page.SetViewportSizeAsync(1024, 768);
        await new ShellPage(page).GotoAsync("/models/credit-risk/compare?a=1&b=2");
        var table = page.GetByRole(AriaRole.Table, new PageGetByRoleOptions { Name = "Version comparison" });
        await Assertions.Expect(table).ToContainTextAsync("v2");

        Assert.True(await page.EvaluateAsync<bool>(PageFitsTheScreen), "the comparison pushes the page sideways");
        var second = table.Locator("thead th").Nth(2);
        // The second version's column is on screen, or its container scrolls to it.
        Assert.True(await second.EvaluateAsync<bool>(
            "th => { const box = th.closest('.portal-scroll'); return th.getBoundingClientRect().left < window.innerWidth && (!box || box.scrollWidth <= box.clientWidth + 1 || getComputedStyle(box).overflowX === 'auto'); }"),
            "the second version's column starts off screen with no way to reach it");
    }
}
