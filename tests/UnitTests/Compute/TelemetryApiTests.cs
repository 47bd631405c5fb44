using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>
/// Pushing GPU readings: stored whole or refused whole with the line and field named, who may push, and
/// the size limit. Each test uses its own host, so what one stores is not another's business.
/// </summary>
public sealed class TelemetryApiTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _ops = portal.ClientFor("ops@demo.local");

    private static string NewHost() => $"node-{Guid.NewGuid():N}"[..16];

    private static StringContent Text(string body) => new(body, Encoding.UTF8, "text/plain");

    private async Task<JsonElement> DevicesAsync(string host) => await (await _ops.GetAsync($"/api/v1/telemetry/devices?host={host}")).JsonAsync();

    /// <summary>nvidia-smi CSV lines for now on the portal's clock (host zone UTC).</summary>
    private string Csv(params string[] rows)
    {
        var now = portal.Time.GetUtcNow().UtcDateTime.AddSeconds(-5).ToString("yyyy/MM/dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        return string.Join('\n', rows.Select(r => r.Replace("NOW", now, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task ACapturedNvidiaSmiBody_IsStored_AndPushingItAgainCountsNothingTwice()
    {
        var host = NewHost();
        var body = TelemetryParserTests.Fixture("nvidia-smi-h100.csv");

        var first = await (await _ops.PostAsync($"/api/v1/telemetry/gpu?host={host}&timeZone=Europe/Berlin&compute=Standard_ND96isr_H100_v5", Text(body))).JsonAsync();
        var again = await (await _ops.PostAsync($"/api/v1/telemetry/gpu?host={host}&timeZone=Europe/Berlin", Text(body))).JsonAsync();

        Assert.Equal(4, first.GetProperty("stored").GetInt32());
        Assert.Equal(4, first.GetProperty("newDevices").GetInt32());
        Assert.Equal(0, again.GetProperty("stored").GetInt32());
        Assert.Equal(4, again.GetProperty("skipped").GetInt32());
        var devices = await DevicesAsync(host);
        Assert.Equal(4, devices.GetArrayLength());
        var busiest = devices.EnumerateArray().First(d => d.GetProperty("index").GetInt32() == 0);
        Assert.Equal(100, busiest.GetProperty("busyPercent").GetDouble(), 3);
        Assert.Equal(627.4, busiest.GetProperty("powerW").GetDouble(), 3);
        Assert.Equal("Standard_ND96isr_H100_v5", busiest.GetProperty("compute").GetString());
    }

    [Fact]
    public async Task ADcgmScrape_IsStoredPerDevice_IncludingMigInstances()
    {
        var response = await (await _ops.PostAsync("/api/v1/telemetry/gpu?host=dgx-a100-02", Text(TelemetryParserTests.Fixture("dcgm-exporter-mig.txt")))).JsonAsync();

        Assert.Equal(2, response.GetProperty("stored").GetInt32());
        var devices = await DevicesAsync("dgx-a100-02");
        Assert.Equal(["1g.10gb", "3g.40gb"], devices.EnumerateArray().Select(d => d.GetProperty("migProfile").GetString()!).Order(StringComparer.Ordinal).ToArray());
    }

    public static TheoryData<string, string> BadBodies => new()
    {
        { "NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50\nNOW, 1, GPU-7e2d9b1f-4a3c-8d6e-5f0a-2b9c4d7e1f83, H100, 120, 100, 81559, 300, 50", "utilization.gpu" },
        { "NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, -3, 100, 81559, 300, 50", "utilization.gpu" },
        { "NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 90000, 81559, 300, 50", "memory.used" },
        { "2031/01/01 00:00:00.000, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50", "timestamp" },
        { "2019/03/01 00:00:00.000, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50", "timestamp" },
        { "NOW, 0, not-a-gpu, H100, 50, 100, 81559, 300, 50", "uuid" },
        { "NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50\nNOW, 1, GPU-7e2d9b1f", "body" },
        { "DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"0\",UUID=\"GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80\"} 0.5\nDCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu=\"1\",UUID=\"GPU-7e2d9b1f-4a3c-8d6e-5f0a-2b9c4d7e1f83\"} 1.7", "utilization.gpu" },
        { "DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80\"} 40\nDCGM_FI_DEV_GPU_UTIL{gpu=\"1\",UUID=\"GPU-7e2d", "body" },
        { "hello, world", "body" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task ABadBody_Is400NamingLineAndField_AndNothingOfItIsStored(string body, string field)
    {
        var host = NewHost();

        var response = await _ops.PostAsync($"/api/v1/telemetry/gpu?host={host}&timeZone=UTC", Text(Csv(body)));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.Contains(messages.EnumerateArray(), m => m.GetString()!.Contains("line", StringComparison.Ordinal) || field == "body");
        Assert.Equal(0, (await DevicesAsync(host)).GetArrayLength());
    }

    [Fact]
    public async Task A50MegabyteBody_Is413_AndNothingIsStored()
    {
        var host = NewHost();
        var line = Csv("NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50\n");
        var body = new StringBuilder(50 * 1024 * 1024 + line.Length);
        while (body.Length < 50 * 1024 * 1024)
        {
            body.Append(line);
        }

        var response = await _ops.PostAsync($"/api/v1/telemetry/gpu?host={host}&timeZone=UTC", Text(body.ToString()));

        Assert.Contains("Nothing was stored", await response.AssertProblemAsync(HttpStatusCode.RequestEntityTooLarge), StringComparison.Ordinal);
        Assert.Equal(0, (await DevicesAsync(host)).GetArrayLength());
    }

    [Theory]
    [InlineData("scientist@demo.local")]
    [InlineData("viewer@demo.local")]
    [InlineData("reviewer@demo.local")]
    public async Task OnlyOpsAndAdministratorsPush(string user)
    {
        var host = NewHost();

        var response = await portal.ClientFor(user).PostAsync($"/api/v1/telemetry/gpu?host={host}&timeZone=UTC",
            Text(Csv("NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50")));

        await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Equal(0, (await DevicesAsync(host)).GetArrayLength());
    }

    [Theory]
    [InlineData("", "host")]
    [InlineData("&timeZone=Mars/Olympus", "timeZone")]
    [InlineData("&compute=no%20spaces", "compute")]
    public async Task BadQueryParameters_Are400NamingThem(string query, string field)
    {
        var host = query.Length == 0 ? "" : NewHost();

        var response = await _ops.PostAsync($"/api/v1/telemetry/gpu?host={host}{query}", Text(Csv("NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50")));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task UnknownGpus_AreRefused_WhenOnlyKnownOnesAreAccepted()
    {
        using var strict = new PortalFactory().With("Portal:Telemetry:AcceptNewDevices", "false");
        var ops = strict.ClientFor("ops@demo.local");

        var response = await ops.PostAsync("/api/v1/telemetry/gpu?host=gpu-node-9&timeZone=UTC",
            Text(Csv("NOW, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50, 100, 81559, 300, 50")));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("AcceptNewDevices", problem.GetProperty("errors").GetProperty("uuid")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PriceCards_RefuseNegativePricesAndOverlaps_AndOnlyAdministratorsSetThem()
    {
        var admin = portal.ClientFor("admin@demo.local");
        var compute = $"Test_{Guid.NewGuid():N}"[..20];
        var card = new { compute, pricePerHour = 10m, gpusPerInstance = 4, currency = "USD", validFrom = "2026-01-01T00:00:00Z", validTo = "2026-07-01T00:00:00Z" };

        await (await admin.PostAsJsonAsync("/api/v1/price-cards", card)).JsonAsync(HttpStatusCode.Created);
        var overlap = await (await admin.PostAsJsonAsync("/api/v1/price-cards", card with { validTo = "2026-12-01T00:00:00Z" })).JsonAsync(HttpStatusCode.BadRequest);
        var negative = await (await admin.PostAsJsonAsync("/api/v1/price-cards", card with { pricePerHour = -1m, validFrom = "2027-01-01T00:00:00Z", validTo = "2027-02-01T00:00:00Z" })).JsonAsync(HttpStatusCode.BadRequest);
        var byOps = await _ops.PostAsJsonAsync("/api/v1/price-cards", card with { validFrom = "2028-01-01T00:00:00Z", validTo = "2028-02-01T00:00:00Z" });

        Assert.True(overlap.GetProperty("errors").TryGetProperty("validFrom", out _), overlap.ToString());
        Assert.True(negative.GetProperty("errors").TryGetProperty("pricePerHour", out _), negative.ToString());
        await byOps.AssertProblemAsync(HttpStatusCode.Forbidden);
        var cards = await (await admin.GetAsync("/api/v1/price-cards")).JsonAsync();
        Assert.Single(cards.EnumerateArray(), c => c.GetProperty("compute").GetString() == compute);
    }

    [Fact]
    public async Task ABudgetOfZero_Is400()
    {
        var response = await _ops.PutAsJsonAsync("/api/v1/budgets", new { scope = "Team", key = "vision", monthlyAmount = 0 });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("monthlyAmount", out _), problem.ToString());
    }

    [Fact]
    public async Task ARunWithoutTelemetry_ShowsTheMlflowSystemMetricsItLogged()
    {
        var scientist = portal.ClientFor("scientist@demo.local");
        var experiment = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"system-metrics-{Guid.NewGuid():N}" })).JsonAsync()).GetProperty("experiment_id").GetString();
        var run = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        var start = 1_795_000_000_000L;

        // What mlflow.enable_system_metrics_logging() logs: two GPUs, one a minute, for ten minutes.
        var metrics = Enumerable.Range(0, 11).SelectMany(i => new[]
        {
            new { key = "system/gpu_0_utilization_percentage", value = 80.0, timestamp = start + i * 60_000L, step = i },
            new { key = "system/gpu_1_utilization_percentage", value = 40.0, timestamp = start + i * 60_000L, step = i },
            new { key = "system/gpu_0_memory_usage_megabytes", value = 2048.0, timestamp = start + i * 60_000L, step = i },
        }).ToArray();
        await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/log-batch", new { run_id = run, metrics })).JsonAsync();

        var usage = await (await scientist.GetAsync($"/api/v1/telemetry/runs/{run}")).JsonAsync();

        Assert.Equal("mlflow system metrics", usage.GetProperty("source").GetString());
        Assert.Equal(2, usage.GetProperty("gpus").GetInt32());
        Assert.Equal(2 * 10 / 60.0, usage.GetProperty("gpuHours").GetDouble(), 3);
        Assert.Equal(0.6, usage.GetProperty("efficiency").GetDouble(), 3);
        Assert.Equal(11, usage.GetProperty("times").GetArrayLength());
    }

    [Fact]
    public async Task ARunWithNoGpuUse_SaysSo()
    {
        var scientist = portal.ClientFor("scientist@demo.local");
        var experiment = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"no-gpu-{Guid.NewGuid():N}" })).JsonAsync()).GetProperty("experiment_id").GetString();
        var run = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();

        var usage = await (await scientist.GetAsync($"/api/v1/telemetry/runs/{run}")).JsonAsync();

        Assert.Equal("none", usage.GetProperty("source").GetString());
        Assert.False(usage.GetProperty("hasData").GetBoolean());
    }
}
