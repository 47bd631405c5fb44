using System.Text;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class DatasetsTests(PortalServer portal)
{
    [Fact]
    public async Task DemoDataset_IsListed_WithItsFailedSecondVersion()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/datasets");

        var row = page.GetByLabel("Datasets", new PageGetByLabelOptions { Exact = true }).Locator("tbody tr")
            .Filter(new LocatorFilterOptions { Has = page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "credit-risk", Exact = true }) });
        await Assertions.Expect(row).ToContainTextAsync("v2");
        await Assertions.Expect(row).ToContainTextAsync("failed");
        await Screenshots.SaveAsync(page, "datasets-list");
    }

    [Fact]
    public async Task FailedVersion_ShowsContractViolationsDriftProfileAndPersonalData()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var datasets = new DatasetPages(page);
        await new ShellPage(page).GotoAsync("/datasets/credit-risk/versions/2");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToContainTextAsync("failed");
        // The overview says why, and the hash stays inside its column.
        await Assertions.Expect(page.GetByLabel("Why this version failed")).ToContainTextAsync("This version failed validation (");
        var hash = page.Locator(".portal-hash");
        Assert.True(await hash.EvaluateAsync<bool>("dd => dd.scrollWidth <= dd.clientWidth + 1"), "the SHA-256 runs out of its column");

        await datasets.OpenTabAsync("Validation");
        var failures = page.GetByLabel("Failed checks");
        await Assertions.Expect(failures.Locator("tr").Filter(new LocatorFilterOptions { HasText = "employment" }).Filter(new LocatorFilterOptions { HasText = "category" })).ToContainTextAsync("'gig'");
        await Assertions.Expect(failures.Locator("tr").Filter(new LocatorFilterOptions { HasText = "customer_id" })).ToContainTextAsync("duplicate");
        await Assertions.Expect(failures.Locator("tr").Filter(new LocatorFilterOptions { HasText = "annual_income" }).First).ToContainTextAsync("significant drift");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Drift per column" })).ToHaveAttributeAsync("data-rendered", "true");
        await Screenshots.SaveAsync(page, "dataset-version-validation");

        await datasets.OpenTabAsync("Profile");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Distribution of credit_score" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Correlation heatmap" })).ToHaveAttributeAsync("data-rendered", "true");
        await Screenshots.SaveAsync(page, "dataset-version-profile");

        await datasets.OpenTabAsync("Personal data");
        await Assertions.Expect(page.GetByLabel("Personal data findings")).ToContainTextAsync("e-mail addresses");

        await datasets.OpenTabAsync("Preview");
        var preview = page.GetByLabel("Preview of the first rows");
        await Assertions.Expect(preview).ToContainTextAsync("•••");
        Assert.DoesNotContain("@mail.example", await preview.InnerTextAsync());
    }

    [Fact]
    public async Task ScientistUploadsAFile_AndSeesItsValidationAndProfile_ThenABrokenFileIsRefused()
    {
        var name = $"e2e-{Guid.NewGuid():N}"[..16];
        var good = WriteFile("loans.csv", "id,amount,region\n" + string.Concat(Enumerable.Range(1, 300).Select(i => $"{i},{i * 12.5},{(i % 3 == 0 ? "north" : "south")}\n")));
        var ragged = WriteFile("broken.csv", "id,amount,region\n1,2,north\n3,4\n");
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var datasets = new DatasetPages(page);
        await new ShellPage(page).GotoAsync("/datasets/register");

        await datasets.RegisterAsync(name, good, "Uploaded by the browser test");

        await page.WaitForURLAsync($"**/datasets/{name}/versions/1");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToContainTextAsync("passed");
        await datasets.OpenTabAsync("Profile");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Distribution of amount" })).ToHaveAttributeAsync("data-rendered", "true");

        await new ShellPage(page).GotoAsync($"/datasets/register?name={name}");
        await page.GetByLabel("Dataset file").SetInputFilesAsync(ragged);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Register" }).ClickAsync();
        await Assertions.Expect(page.GetByText("Line 3 has 2 fields; the header has 3.")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "dataset-register-refused");
        Assert.Contains("/datasets/register", page.Url);
    }

    [Fact]
    public async Task Viewer_ReadsDatasets_ButCannotRegister()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Viewer);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/datasets");
        await Assertions.Expect(page.GetByText("credit-risk").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Register a version" })).ToHaveCountAsync(0);

        await page.GotoAsync("/datasets/register");

        await page.WaitForURLAsync("**/account/access-denied**");
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("requires one of the roles Admin, DataScientist");
    }

    [Fact]
    public async Task CompareVersions_ShowsDriftAndDistributionsSideBySide()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Reviewer);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/datasets/credit-risk/compare?a=1&b=2");

        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Drift per column between the two versions" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "annual_income in v1 and v2" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByLabel("Schema differences")).ToContainTextAsync("employment");
        await Screenshots.SaveAsync(page, "dataset-compare");
    }

    [Fact]
    public async Task ContractEditor_RefusesMinAboveMax_NamingTheColumn()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/datasets/credit-risk/contract");

        await page.GetByLabel("Minimum of column 2").FillAsync("90");
        await page.GetByLabel("Maximum of column 2").FillAsync("18");
        await page.GetByLabel("Maximum of column 2").PressAsync("Tab");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Save contract" }).ClickAsync();

        await Assertions.Expect(page.GetByText("min (90) is greater than max (18) for 'age'.")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "dataset-contract-editor");
    }

    [Fact]
    public async Task ABrowserSession_CannotBeUsedForAPIChanges_FromAnotherSite()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var multipart = context.APIRequest.CreateFormData();
        multipart.Set("file", new FilePayload { Name = "forged.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes("a,b\n1,2\n") });

        // What a hostile page can make the browser send: the session cookie, but not the portal's header.
        var forged = await context.APIRequest.PostAsync("/api/v1/datasets/browser-session-check/versions", new APIRequestContextOptions { Multipart = multipart });
        Assert.Equal(403, forged.Status);
        Assert.Contains("X-Portal-Request", await forged.TextAsync());
        Assert.Equal(404, (await context.APIRequest.GetAsync("/api/v1/datasets/browser-session-check")).Status);

        // The portal's own pages send the header and get through.
        var own = await context.APIRequest.PostAsync("/api/v1/datasets/browser-session-check/versions", new APIRequestContextOptions
        {
            Multipart = multipart,
            Headers = new Dictionary<string, string> { ["X-Portal-Request"] = "1" },
        });
        Assert.Equal(201, own.Status);
    }

    [Fact]
    public async Task Lineage_ShowsWhereAVersionCameFrom_AndOpensNodes()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Reviewer);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/lineage?artifact=dataset%3Acredit-risk%3A2");

        var diagram = page.Locator("svg[aria-label='Lineage of dataset:credit-risk:2']");
        await Assertions.Expect(diagram.Locator("[data-ref='external:warehouse/loans.applications_daily']")).ToBeVisibleAsync();
        await Assertions.Expect(diagram.Locator("[data-ref='external:airflow/credit_risk_monthly_extract']")).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "lineage");

        // Clicking the warehouse table recentres the graph on it: both versions are downstream of it.
        await diagram.Locator("[data-ref='external:warehouse/loans.applications_daily']").ClickAsync();
        var warehouse = page.Locator("svg[aria-label='Lineage of external:warehouse/loans.applications_daily']");
        await Assertions.Expect(warehouse.Locator("[data-ref='dataset:credit-risk:1']")).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Impact")).ToContainTextAsync("credit-risk");
        // Both versions come from the warehouse: September's trained the demo models, October's cleaned rows are their holdout.
        await Assertions.Expect(page.GetByLabel("Impact")).ToContainTextAsync(new System.Text.RegularExpressions.Regex("Runs: ([3-9]|[1-9][0-9])"));

        await warehouse.Locator("[data-ref='dataset:credit-risk:1']").ClickAsync();
        await page.WaitForURLAsync("**/datasets/credit-risk/versions/1");
    }

    private static string WriteFile(string name, string content)
    {
        var path = Path.Combine(Path.GetTempPath(), $"{Guid.NewGuid():N}-{name}");
        File.WriteAllText(path, content, new UTF8Encoding(false));
        return path;
    }
}
