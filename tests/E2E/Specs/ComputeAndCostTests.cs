using System.Net;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

/// <summary>
/// Ops on the demo's simulated GPU fleet: the Compute &amp; GPU page draws the fleet and keeps updating, shows
/// who holds what and the idle notebook as waste; the Cost page shows cost by team over time, the team near its
/// budget with a forecast and the alerts it crossed, and reconciles an Azure export; a run has its GPU and cost.
/// </summary>
[Collection(PortalCollection.Name)]
public class ComputeAndCostTests(PortalServer portal)
{
    /// <summary>A FOCUS export line for the demo deployment, as Azure Cost Management writes it.</summary>
    private const string FocusExport = """
        BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,EffectiveCost,ResourceId,ServiceName,Tags
        88.152,USD,2026-12-01T00:00:00Z,2026-12-02T00:00:00Z,88.152,/subscriptions/1111/resourcegroups/rg-ml/providers/microsoft.machinelearningservices/workspaces/ws/onlineendpoints/credit-risk/deployments/blue,Azure Machine Learning,"{""azuremlendpoint"":""credit-risk"",""azuremldeployment"":""blue""}"
        12.50,USD,2026-12-01T00:00:00Z,2026-12-02T00:00:00Z,12.50,/subscriptions/1111/resourcegroups/rg-ml/providers/microsoft.storage/storageaccounts/mlartifacts,Storage,
        """;

    private async Task WaitForFleetAsync()
    {
        // The fleet's week of history is the demo's last seeding step.
        var api = portal.ApiClient(DemoUsers.Ops);
        var deadline = DateTime.UtcNow.AddSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            using var response = await api.GetAsync("/api/v1/budgets");
            if (response.StatusCode == HttpStatusCode.OK && JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetArrayLength() > 0)
            {
                return;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException("The simulated fleet and its budgets were not seeded in time.");
    }

    [Fact]
    public async Task TheFleetDashboard_DrawsAndUpdatesLive_ShowingHoldersAndIdleWaste()
    {
        await WaitForFleetAsync();
        await using var context = await portal.ContextAsAsync(DemoUsers.Ops);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/compute");

        await Assertions.Expect(page.Locator("[data-sample=fleet]")).ToContainTextAsync("sim-gpu-01");
        var heatmap = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Busy percent of each GPU over the period" });
        await Assertions.Expect(heatmap).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 20_000 });
        await Assertions.Expect(heatmap.Locator(".hm, .heatmaplayer, .cartesianlayer").First).ToBeAttachedAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { NameRegex = new("^Busy, memory and power of") })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Busy share of allocated GPU time per team" })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.Locator("[data-figure=gpus]")).ToContainTextAsync("16");

        // Who holds what, and the notebook that holds two GPUs doing nothing: waste, with an alert.
        await Assertions.Expect(page.GetByLabel("Runs and deployments by cost")).ToContainTextAsync("llm-finetune (simulated)");
        var idle = page.GetByLabel("Idle stretches");
        await Assertions.Expect(idle.Locator("tr", new() { HasText = "notebook-exploration (simulated)" }).Locator("[data-idle=wasted]").First).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Idle GPU alerts" })).ToContainTextAsync("Idle GPU: run notebook-exploration (simulated)");
        await Screenshots.SaveAsync(page, "compute-fleet");

        // Live: new readings arrive every few seconds and the page reloads its figures without a reload of the page.
        var updated = page.Locator("[data-updated]");
        var first = await updated.GetAttributeAsync("data-updated");
        await Assertions.Expect(updated).Not.ToHaveAttributeAsync("data-updated", first!, new() { Timeout = 30_000 });
        await Assertions.Expect(heatmap).ToHaveAttributeAsync("data-rendered", "true");

        // A device's own timeline.
        await page.GetByLabel("GPU", new() { Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "sim-gpu-02 #4" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Busy, memory and power of sim-gpu-02 #4" })).ToHaveAttributeAsync("data-rendered", "true");
    }

    [Fact]
    public async Task TheCostDashboard_ShowsCostOverTime_BudgetsWithForecastAndAlerts_AndReconcilesAnExport()
    {
        await WaitForFleetAsync();
        await using var context = await portal.ContextAsAsync(DemoUsers.Ops);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/cost");

        await Assertions.Expect(page.Locator("[data-figure=total]")).ToContainTextAsync("USD");
        var overTime = page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "Cost per time bucket, stacked by group" });
        await Assertions.Expect(overTime).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 20_000 });
        await Assertions.Expect(page.GetByLabel("Costs per group")).ToContainTextAsync("credit-risk");

        // The team near its budget: its share, the burn-down with the forecast, and the thresholds it crossed.
        var budgets = page.GetByLabel("Budgets this month");
        await Assertions.Expect(budgets).ToContainTextAsync("team credit-risk");
        var share = double.Parse((await page.Locator("[data-budget-percent=credit-risk]").InnerTextAsync()).Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(share, 80, 1000);
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { NameRegex = new("^Spending this month against the budget of team credit-risk") })).ToHaveAttributeAsync("data-rendered", "true");
        await Assertions.Expect(page.GetByRole(AriaRole.Region, new() { Name = "Budget alerts" })).ToContainTextAsync("Budget of team credit-risk: 80 % used");
        await Screenshots.SaveAsync(page, "cost-dashboard");

        // Another grouping redraws the stack.
        await page.GetByLabel("Group by").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "endpoint" }).ClickAsync();
        await Assertions.Expect(page.GetByLabel("Costs per group")).ToContainTextAsync("(training)");

        // An Azure export: billed beside estimated, per resource.
        var export = Path.Combine(Path.GetTempPath(), $"focus-{Guid.NewGuid():N}.csv");
        await File.WriteAllTextAsync(export, FocusExport);
        await page.GetByLabel("Cost export file").SetInputFilesAsync(export);
        var reconciled = page.GetByLabel("Billed beside estimated");
        await Assertions.Expect(reconciled).ToContainTextAsync("credit-risk / blue");
        await Assertions.Expect(reconciled).ToContainTextAsync("88.15 USD");
        await Assertions.Expect(reconciled).ToContainTextAsync("not tracked by the portal");
        await reconciled.ScrollIntoViewIfNeededAsync();
        await Screenshots.SaveAsync(page, "cost-reconciliation");
    }

    [Fact]
    public async Task PriceCards_AreListed_WithTheShippedOnesMarkedAsExamples()
    {
        await WaitForFleetAsync();
        await using var context = await portal.ContextAsAsync(DemoUsers.Admin);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync("/admin");
        await page.GetByRole(AriaRole.Tab, new() { Name = "Price cards" }).ClickAsync();

        var cards = page.GetByLabel("Prices per compute kind");
        await Assertions.Expect(cards).ToContainTextAsync("Standard_ND96isr_H100_v5");
        await Assertions.Expect(cards).ToContainTextAsync("12.29 USD");
        await Assertions.Expect(cards.Locator("[data-price-card=example]").First).ToBeVisibleAsync();
        await Screenshots.SaveAsync(page, "admin-price-cards");
    }

    [Fact]
    public async Task ARun_ShowsItsGpuUseAndCost()
    {
        await WaitForFleetAsync();
        var api = portal.ApiClient(DemoUsers.Scientist);
        var experiment = JsonDocument.Parse(await api.GetStringAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=gpu-fleet-simulated")).RootElement
            .GetProperty("experiment").GetProperty("experiment_id").GetString();
        var search = await api.PostAsync("/api/2.0/mlflow/runs/search", new StringContent($$"""{"experiment_ids":["{{experiment}}"],"filter":"attributes.run_name = 'llm-finetune (simulated)'"}""", System.Text.Encoding.UTF8, "application/json"));
        var runId = JsonDocument.Parse(await search.Content.ReadAsStringAsync()).RootElement.GetProperty("runs")[0].GetProperty("info").GetProperty("run_id").GetString();

        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync($"/runs/{runId}");
        await page.GetByRole(AriaRole.Tab, new() { Name = "GPU & cost" }).ClickAsync();

        await Assertions.Expect(page.Locator("[data-gpu=gpus]")).ToContainTextAsync("8");
        await Assertions.Expect(page.Locator("[data-gpu=cost]")).ToContainTextAsync("USD");
        await Assertions.Expect(page.GetByRole(AriaRole.Img, new PageGetByRoleOptions { Name = "The run's GPU busy percent over time" })).ToHaveAttributeAsync("data-rendered", "true", new() { Timeout = 20_000 });
        await Screenshots.SaveAsync(page, "run-gpu");
    }
}
