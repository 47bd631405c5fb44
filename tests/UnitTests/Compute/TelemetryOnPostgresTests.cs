using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Compute;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>
/// The telemetry path on PostgreSQL (the server option): its rollups and ledgers are hand-written SQL
/// (upserts, a temporary table, GREATEST), so they are run on the real engine too.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class TelemetryOnPostgresTests(PostgresServer postgres) : IAsyncLifetime
{
    private PortalFactory _portal = null!;

    public async Task InitializeAsync()
    {
        _portal = new PortalFactory().With("Portal:Telemetry:IdleWindowMinutes", "5");
        _portal.With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", await postgres.CreateDatabaseAsync());
    }

    public async Task DisposeAsync() => await _portal.DisposeAsync();

    [Fact]
    public async Task ReadingsAreRolledUp_Charged_AndIdleIsFound_OnPostgres()
    {
        var ops = _portal.ClientFor("ops@demo.local");
        var scientist = _portal.ClientFor("scientist@demo.local");
        var experiment = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "pg-gpu" })).JsonAsync()).GetProperty("experiment_id").GetString();
        var runId = (await (await scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        await (await _portal.ClientFor("admin@demo.local").PostAsJsonAsync("/api/v1/price-cards",
            new { compute = "Pg_H100x8", pricePerHour = 80m, gpusPerInstance = 8, currency = "USD", validFrom = "2026-01-01T00:00:00Z" })).JsonAsync(HttpStatusCode.Created);
        var scrape = TelemetryParserTests.Fixture("dcgm-exporter.txt").Replace("RUNID", runId, StringComparison.Ordinal);
        // A scrape a minute: 70 GiB held for 60,000 ms overflows 32-bit arithmetic, which PostgreSQL refuses.
        for (var i = 0; i <= 10; i++)
        {
            await (await ops.PostAsync("/api/v1/telemetry/gpu?host=pg-node&compute=Pg_H100x8&intervalSeconds=60", new StringContent(scrape, Encoding.UTF8, "text/plain"))).JsonAsync();
            _portal.Time.Advance(TimeSpan.FromSeconds(60));
        }

        _portal.Time.Advance(TimeSpan.FromMinutes(2));
        var worker = _portal.Services.GetRequiredService<TelemetryWorker>();
        await worker.PassAsync(CancellationToken.None);
        await worker.PassAsync(CancellationToken.None);

        var team = Assert.Single((await (await ops.GetAsync("/api/v1/costs?groupBy=team&from=2026-11-01&to=2026-12-01")).JsonAsync()).GetProperty("rows").EnumerateArray());
        Assert.Equal("credit-risk", team.GetProperty("key").GetString());
        Assert.Equal(11 * 60 / 3600.0, team.GetProperty("gpuHours").GetDouble(), 3);
        Assert.Equal((double)Math.Round((decimal)(11 * 60 / 3600.0) * 10m, 2), (double)team.GetProperty("cost").GetDecimal(), 2);
        // The exporter's Hostname label names the host, whatever the push said.
        var heatmap = await (await ops.GetAsync("/api/v1/telemetry/heatmap?from=2026-11-22T09:00:00Z&to=2026-11-22T10:00:00Z&host=gpu-node-1")).JsonAsync();
        Assert.Equal(2, heatmap.GetProperty("devices").GetArrayLength());
        Assert.Contains(heatmap.GetProperty("busyPercent")[0].EnumerateArray(), v => v.ValueKind == System.Text.Json.JsonValueKind.Number && v.GetDouble() > 80);
        var idle = Assert.Single((await (await ops.GetAsync("/api/v1/telemetry/idle?from=2026-11-22T00:00:00Z&to=2026-11-23T00:00:00Z")).JsonAsync()).EnumerateArray());
        Assert.True(idle.GetProperty("wasted").GetBoolean());
    }
}
