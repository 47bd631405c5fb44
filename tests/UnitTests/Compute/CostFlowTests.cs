using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Compute;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>
/// From readings to money: a run's GPU, named by DCGM's hpc_job label, is charged to the run's person, team and
/// experiment at the price card's per-GPU price; it sat idle, so it is waste and raises an alert; the team's
/// budget crosses its thresholds; and an Azure export is reconciled beside the estimate.
/// </summary>
public sealed class CostFlowPortal : IAsyncLifetime
{
    public const string Compute = "Test_H100x8";

    public PortalFactory Portal { get; } = new PortalFactory().With("Portal:Telemetry:IdleWindowMinutes", "5");

    public HttpClient Ops { get; private set; } = default!;

    public string RunId { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Ops = Portal.ClientFor("ops@demo.local");
        var scientist = Portal.ClientFor("scientist@demo.local");
        var experiment = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "gpu-costs" })).JsonAsync()).GetProperty("experiment_id").GetString();
        RunId = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment, run_name = "big-train" })).JsonAsync())
            .GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        await (await Portal.ClientFor("admin@demo.local").PostAsJsonAsync("/api/v1/price-cards",
            new { compute = Compute, pricePerHour = 98.32m, gpusPerInstance = 8, currency = "USD", validFrom = "2026-01-01T00:00:00Z" })).JsonAsync(HttpStatusCode.Created);

        // Ten minutes of scrapes every 30 s: GPU 1 is the run's (hpc_job) and idle, GPU 0 is busy and nobody's.
        var scrape = TelemetryParserTests.Fixture("dcgm-exporter.txt").Replace("RUNID", RunId, StringComparison.Ordinal);
        for (var i = 0; i <= 20; i++)
        {
            var pushed = await Ops.PostAsync($"/api/v1/telemetry/gpu?host=gpu-node-1&compute={CostFlowPortal.Compute}&intervalSeconds=30", new StringContent(scrape, Encoding.UTF8, "text/plain"));
            Assert.Equal(2, (await pushed.JsonAsync()).GetProperty("stored").GetInt32());
            Portal.Time.Advance(TimeSpan.FromSeconds(30));
        }

        Portal.Time.Advance(TimeSpan.FromMinutes(2));
        await Portal.Services.GetRequiredService<TelemetryWorker>().PassAsync(CancellationToken.None);
    }

    public async Task DisposeAsync() => await Portal.DisposeAsync();
}

public sealed class CostFlowTests(CostFlowPortal fixture) : IClassFixture<CostFlowPortal>
{
    private readonly HttpClient _ops = fixture.Ops;
    private readonly string _runId = fixture.RunId;
    private readonly PortalFactory _portal = fixture.Portal;

    private static double Hours(int readings) => readings * 30 / 3600.0;

    [Fact]
    public async Task TheRunsGpuTime_IsChargedToItsTeamAndPerson_AtThePerGpuPrice()
    {
        var byTeam = await (await _ops.GetAsync("/api/v1/costs?groupBy=team&from=2026-11-01&to=2026-12-01")).JsonAsync();
        var byUser = await (await _ops.GetAsync("/api/v1/costs?groupBy=user&from=2026-11-01&to=2026-12-01")).JsonAsync();

        Assert.Equal("USD", byTeam.GetProperty("currency").GetString());
        var team = Assert.Single(byTeam.GetProperty("rows").EnumerateArray());
        Assert.Equal("credit-risk", team.GetProperty("key").GetString());
        Assert.Equal(Hours(21), team.GetProperty("gpuHours").GetDouble(), 3);
        Assert.Equal((double)Math.Round((decimal)Hours(21) * 98.32m / 8, 2), (double)team.GetProperty("cost").GetDecimal(), 2);
        Assert.Equal(0, team.GetProperty("efficiency").GetDouble());
        Assert.Equal(team.GetProperty("cost").GetDecimal(), team.GetProperty("idleCost").GetDecimal());
        Assert.Equal("scientist@demo.local", Assert.Single(byUser.GetProperty("rows").EnumerateArray()).GetProperty("key").GetString());

        // The busy GPU nobody holds is shown as unallocated, not charged to anyone.
        Assert.Equal(Hours(21), byTeam.GetProperty("unallocatedGpuHours").GetDouble(), 3);
        Assert.Equal(team.GetProperty("cost").GetDecimal(), byTeam.GetProperty("total").GetDecimal());
    }

    [Fact]
    public async Task TheIdleAllocation_IsWaste_WithAnAlert()
    {
        var idle = await (await _ops.GetAsync("/api/v1/telemetry/idle?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z")).JsonAsync();
        var alerts = await (await _ops.GetAsync("/api/v1/alerts")).JsonAsync();
        var byTeam = await (await _ops.GetAsync("/api/v1/costs?groupBy=team&from=2026-11-01&to=2026-12-01")).JsonAsync();

        var stretch = Assert.Single(idle.EnumerateArray());
        Assert.True(stretch.GetProperty("wasted").GetBoolean());
        Assert.Equal($"run:{_runId}", stretch.GetProperty("owner").GetString());
        Assert.Equal("credit-risk", stretch.GetProperty("team").GetString());
        Assert.True(stretch.GetProperty("minutes").GetDouble() >= 5);
        var alert = Assert.Single(alerts.EnumerateArray(), a => a.GetProperty("source").GetString() == $"run:{_runId}");
        Assert.StartsWith("Idle GPU: run big-train", alert.GetProperty("title").GetString(), StringComparison.Ordinal);
        Assert.True(Assert.Single(byTeam.GetProperty("rows").EnumerateArray()).GetProperty("wastedGpuHours").GetDouble() > 0);
    }

    [Fact]
    public async Task TheRunPage_GetsItsGpuFigures()
    {
        var usage = await (await _ops.GetAsync($"/api/v1/telemetry/runs/{_runId}")).JsonAsync();

        Assert.Equal("telemetry", usage.GetProperty("source").GetString());
        Assert.Equal(1, usage.GetProperty("gpus").GetInt32());
        Assert.Equal(Hours(21), usage.GetProperty("gpuHours").GetDouble(), 3);
        Assert.Equal(0, usage.GetProperty("efficiency").GetDouble());
        Assert.True(usage.GetProperty("energyKWh").GetDouble() > 0);
    }

    [Fact]
    public async Task ATeamBudget_CrossesItsThresholds_RaisingAlertsOnce_WithAForecast()
    {
        await (await _ops.PutAsJsonAsync("/api/v1/budgets", new { scope = "Team", key = "credit-risk", monthlyAmount = 2m })).JsonAsync();
        var worker = _portal.Services.GetRequiredService<TelemetryWorker>();

        await worker.PassAsync(CancellationToken.None);
        await worker.PassAsync(CancellationToken.None);

        var budget = Assert.Single((await (await _ops.GetAsync("/api/v1/budgets")).JsonAsync()).EnumerateArray());
        Assert.True(budget.GetProperty("percent").GetDouble() > 100);
        Assert.True(budget.GetProperty("forecast").GetProperty("projected").GetDecimal() >= budget.GetProperty("spent").GetDecimal());
        var alerts = (await (await _ops.GetAsync("/api/v1/alerts")).JsonAsync()).EnumerateArray()
            .Where(a => a.GetProperty("source").GetString() == "budget:team:credit-risk").Select(a => a.GetProperty("title").GetString()).ToList();
        Assert.Equal(3, alerts.Count);
        Assert.Contains("Budget of team credit-risk: 100 % used", alerts);
    }

    [Fact]
    public async Task CostsExportAsCsv_FormulaSafe()
    {
        var response = await _ops.GetAsync("/api/v1/costs?groupBy=experiment&from=2026-11-01&to=2026-12-01&format=csv");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("experiment,gpuHours,computeHours,cost (USD)", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("gpu-costs,", lines[1], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("cost-ea.csv", "EA", 88.15)]
    [InlineData("cost-mca.csv", "MCA", 88.15)]
    [InlineData("cost-focus.csv", "FOCUS", 88.15)]
    public async Task AnAzureExport_IsReadByHeaderName_AndReconciledPerDeployment(string file, string format, double deployment)
    {
        var imported = await (await _ops.PostAsync($"/api/v1/cost-imports?fileName={file}", new StringContent(TelemetryParserTests.Fixture(file), Encoding.UTF8, "text/csv")))
            .JsonAsync(HttpStatusCode.Created);

        Assert.Equal(format, imported.GetProperty("format").GetString());
        var row = imported.GetProperty("rows").EnumerateArray().First();
        Assert.Equal("credit-risk / blue", row.GetProperty("resource").GetString());
        Assert.Equal(deployment, (double)row.GetProperty("actual").GetDecimal(), 2);
        Assert.Equal(JsonValueKind.Number, row.GetProperty("estimate").ValueKind);
    }

    public static TheoryData<string, string> BadExports => new()
    {
        { "Date,Cost,Currency\n11/22/2026,1.0,USD\n", "file" },
        { "Date,ResourceId,CostInBillingCurrency,BillingCurrencyCode\n11/22/2026,/a,1.0,USD\n11/22/2026,/b,2.0,EUR\n", "BillingCurrencyCode" },
        { "Date,ResourceId,CostInBillingCurrency,BillingCurrencyCode\n11/22/2026,/a,1.0,USD\n11/22/2026,/b,2.0", "file" },
        { "Date,ResourceId,CostInBillingCurrency,BillingCurrencyCode\n11/22/2026,/a,lots,USD\n", "CostInBillingCurrency" },
        { "Date,ResourceId,CostInBillingCurrency,BillingCurrencyCode,Tags\n11/22/2026,/a,1.0,USD,\"\"\"k\"\": \"\"v\n", "file" },
    };

    [Theory]
    [MemberData(nameof(BadExports))]
    public async Task ABadExport_Is400NamingLineAndField_AndImportsNothing(string body, string field)
    {
        var before = (await (await _ops.GetAsync("/api/v1/cost-imports")).JsonAsync()).GetArrayLength();
        var response = await _ops.PostAsync("/api/v1/cost-imports?fileName=bad.csv", new StringContent(body, Encoding.UTF8, "text/csv"));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.Contains("line", messages[0].GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await (await _ops.GetAsync("/api/v1/cost-imports")).JsonAsync()).GetArrayLength());
    }
}
