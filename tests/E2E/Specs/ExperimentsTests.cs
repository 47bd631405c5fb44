using System.Net.Http.Json;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

[Collection(PortalCollection.Name)]
public class ExperimentsTests(PortalServer portal)
{
    [Fact]
    public async Task ScientistSubmitsTheSample_WatchesMetricsAndLogsStream_ThenComparesItWithOlderRuns()
    {
        var name = $"e2e-live-{Guid.NewGuid():N}"[..17];
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/jobs");

        // The classifier sample is preselected; slow it down so it can be watched.
        await page.GetByLabel("Run name (optional)").FillAsync(name);
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Add param" }).ClickAsync();
        await page.GetByLabel("Param name").Last.FillAsync("step_delay");
        await page.GetByLabel("Param name").Last.PressAsync("Tab");
        await page.GetByLabel("Value of step_delay").FillAsync("0.2");
        await page.GetByLabel("Value of n_estimators").FillAsync("40");
        await Screenshots.SaveAsync(page, "job-submit");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Submit job" }).ClickAsync();

        await page.WaitForURLAsync("**/runs/*");
        var heading = page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 });
        await Assertions.Expect(heading).ToContainTextAsync(name);
        await Assertions.Expect(heading).ToContainTextAsync("Running", new() { Timeout = 30_000 });
        var chart = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "val_auc by step" });
        await Assertions.Expect(chart).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 30_000 });
        // Still running while the chart is drawn: the chart came live, not after the end.
        await Assertions.Expect(heading).ToContainTextAsync("Running");
        await Screenshots.SaveAsync(page, "run-live-metrics");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Logs" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Log", new PageGetByLabelOptions { Exact = true })).ToContainTextAsync("iteration", new() { Timeout = 30_000 });
        await Screenshots.SaveAsync(page, "run-live-log");

        await Assertions.Expect(heading).ToContainTextAsync("Finished", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByLabel("Log", new PageGetByLabelOptions { Exact = true })).ToContainTextAsync("done");
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { NameRegex = new("^Artifacts") }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Artifacts", new PageGetByLabelOptions { Exact = true })).ToContainTextAsync("outputs/model.pkl");

        // Compare with the demo's earlier runs of the same sample.
        await page.GetByRole(AriaRole.Main).GetByRole(AriaRole.Link, new LocatorGetByRoleOptions { Name = "credit-risk-classifier" }).First.ClickAsync();
        var runs = page.GetByLabel("Runs", new PageGetByLabelOptions { Exact = true });
        foreach (var run in new[] { name, "gbm-baseline", "gbm-deep-slow" })
        {
            await runs.Locator("tbody tr").Filter(new() { HasText = run }).GetByRole(AriaRole.Checkbox).ClickAsync();
        }

        await Screenshots.SaveAsync(page, "runs-table-selection");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { NameRegex = new("^Compare \\(3\\)") }).ClickAsync();

        await page.WaitForURLAsync("**/experiments/compare?runs=*");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToHaveTextAsync("Compare 3 runs");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "val_auc by step for each run" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Parallel coordinates of params and val_auc" })).ToHaveAttributeAsync("data-rendered", "true");
        var differences = page.GetByLabel("Differences between runs");
        await Assertions.Expect(differences.Locator("tr.portal-differs").Filter(new() { HasText = "params.n_estimators" })).ToContainTextAsync("40");
        await Assertions.Expect(differences).Not.ToContainTextAsync("params.subsample"); // the same in all three: hidden
        var legend = page.Locator(".portal-chart[aria-label='val_auc by step for each run'] .legendtext");
        await Assertions.Expect(legend).ToHaveCountAsync(3);
        await Assertions.Expect(legend.Filter(new() { HasText = name })).ToHaveCountAsync(1);
        await Screenshots.SaveAsync(page, "runs-compare");
    }

    [Fact]
    public async Task TheTenThousandRunHistory_FiltersAndSortsOnTheServer_AndABadFilterSaysWhy()
    {
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync("/experiments");
        await page.GetByRole(AriaRole.Link, new PageGetByRoleOptions { Name = "credit-risk-history" }).ClickAsync();
        await Assertions.Expect(page.GetByText("10,000 runs match")).ToBeVisibleAsync();

        await page.GetByLabel("Filter runs").FillAsync("metrics.val_auc > 0.75 and params.model_type = 'gbm'");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.GetByText("10,000 runs match")).Not.ToBeVisibleAsync();
        var grid = page.GetByLabel("Runs", new PageGetByLabelOptions { Exact = true });
        await grid.GetByRole(AriaRole.Columnheader, new() { Name = "metrics.val_auc" }).ClickAsync();
        await grid.GetByRole(AriaRole.Columnheader, new() { Name = "metrics.val_auc" }).ClickAsync();
        await Assertions.Expect(grid.Locator("tbody tr").First).ToContainTextAsync("gbm-");

        // The grid reloads from the server after each click; wait for the descending page.
        var auc = await ColumnValuesAsync(page, "metrics.val_auc");
        for (var i = 0; i < 50 && !auc.SequenceEqual(auc.OrderDescending()); i++)
        {
            await Task.Delay(200);
            auc = await ColumnValuesAsync(page, "metrics.val_auc");
        }

        Assert.True(auc.Count >= 10, $"expected a page of runs, got {auc.Count}");
        Assert.All(auc, v => Assert.True(v > 0.75));
        Assert.Equal(auc.OrderDescending(), auc);
        await Screenshots.SaveAsync(page, "runs-table-filtered");

        await page.GetByLabel("Filter runs").FillAsync("metrics.val_auc >> 'high'");
        await page.GetByRole(AriaRole.Button, new PageGetByRoleOptions { Name = "Apply" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert).Filter(new() { HasText = "Invalid filter" })).ToBeVisibleAsync();
    }

    [Fact]
    public async Task AScriptSpeakingMlflowsRestApi_LogsARunThatAppearsLive()
    {
        using var api = portal.ApiClient(DemoUsers.Scientist);
        var experiment = (await (await api.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"e2e-script-{Guid.NewGuid():N}"[..20] })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("experiment_id").GetString();
        var runId = (await (await api.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment, run_name = "from-a-script" })).Content.ReadFromJsonAsync<JsonElement>())
            .GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        await new ShellPage(page).GotoAsync($"/runs/{runId}");
        await Assertions.Expect(page.GetByText("No metrics logged yet")).ToBeVisibleAsync();
        // The trail names the experiment and the run, not their ids.
        var crumbs = page.GetByLabel("Breadcrumb");
        await Assertions.Expect(crumbs).ToContainTextAsync("from-a-script");
        await Assertions.Expect(crumbs).ToContainTextAsync("e2e-script-");
        await Assertions.Expect(crumbs).Not.ToContainTextAsync(runId!);

        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var batch = await api.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch", new
        {
            run_id = runId,
            metrics = Enumerable.Range(0, 20).Select(i => new { key = "loss", value = 1.0 / (i + 1), timestamp = now + i, step = i }),
            @params = new[] { new { key = "optimizer", value = "adam" } },
        });
        batch.EnsureSuccessStatusCode();

        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "loss by step" })).ToHaveAttributeAsync("data-rendered", "true");
        // The latest-value text follows the point just logged, not the one before it.
        await page.GetByRole(AriaRole.Tab, new PageGetByRoleOptions { Name = "Params & metrics" }).ClickAsync();
        await Assertions.Expect(page.GetByText("0.05 (step 19)")).ToBeVisibleAsync();
        (await api.PostAsJsonAsync("/api/2.0/mlflow/runs/log-metric", new { run_id = runId, key = "loss", value = 0.0123, timestamp = now + 20, step = 20 })).EnsureSuccessStatusCode();
        await Assertions.Expect(page.GetByText("0.0123 (step 20)")).ToBeVisibleAsync();
        await api.PostAsJsonAsync("/api/2.0/mlflow/runs/update", new { run_id = runId, status = "FINISHED" });
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new PageGetByRoleOptions { Level = 1 })).ToContainTextAsync("Finished");
    }

    private static async Task<List<double>> ColumnValuesAsync(IPage page, string column)
    {
        var grid = page.GetByLabel("Runs", new PageGetByLabelOptions { Exact = true });
        var headers = await grid.Locator("thead th").AllInnerTextsAsync();
        var index = headers.Select((h, i) => (h.Trim(), i)).First(h => h.Item1.StartsWith(column, StringComparison.Ordinal)).i;
        var cells = await grid.Locator($"tbody tr td:nth-child({index + 1})").AllInnerTextsAsync();
        return [.. cells.Where(c => c.Trim().Length > 0).Select(c => double.Parse(c.Trim(), System.Globalization.CultureInfo.InvariantCulture))];
    }
}
