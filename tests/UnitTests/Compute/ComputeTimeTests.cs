using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Compute;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>A CPU-only job is charged for the time its process ran, at the instance price of its compute kind.</summary>
public sealed class ComputeTimeTests(JobsPortal portal) : IClassFixture<JobsPortal>
{
    [Fact]
    public async Task ACpuOnlyJob_IsChargedForTheTimeItsProcessRan()
    {
        await portal.WaitForDemoDataAsync();
        var scientist = portal.ClientFor("scientist@demo.local");
        var ops = portal.ClientFor("ops@demo.local");
        var admin = portal.ClientFor("admin@demo.local");

        // This machine at 36 an hour (the shipped example card, edited): 40 s cost 0.40.
        var local = (await (await admin.GetAsync("/api/v1/price-cards")).JsonAsync()).EnumerateArray().Single(c => c.GetProperty("compute").GetString() == "local");
        await (await admin.PutAsJsonAsync($"/api/v1/price-cards/{local.GetProperty("id").GetGuid()}",
            new { compute = "local", pricePerHour = 36m, gpusPerInstance = 0, currency = "USD", validFrom = local.GetProperty("validFrom").GetDateTime() })).JsonAsync();
        var submitted = await (await scientist.PostAsJsonAsync("/api/v1/jobs", new { experiment = "cpu-costs", command = "sleep 120" })).JsonAsync(HttpStatusCode.Accepted);
        var jobId = submitted.GetProperty("jobId").GetString()!;
        await JobsApiTests.WaitUntilAsync(async () => (await (await scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync()).GetProperty("status").GetString() == "Running");
        var worker = portal.Services.GetRequiredService<TelemetryWorker>();

        // Two passes 20 s apart on the portal's clock, with the process alive throughout: 40 s of compute.
        await worker.PassAsync(CancellationToken.None);
        portal.Time.Advance(TimeSpan.FromSeconds(20));
        await worker.PassAsync(CancellationToken.None);
        portal.Time.Advance(TimeSpan.FromSeconds(20));
        await worker.PassAsync(CancellationToken.None);
        await (await scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).JsonAsync();

        var day = portal.Time.GetUtcNow().UtcDateTime.Date;
        var costs = await (await ops.GetAsync($"/api/v1/costs?groupBy=experiment&from={day:yyyy-MM-dd}&to={day.AddDays(1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}")).JsonAsync();
        var row = Assert.Single(costs.GetProperty("rows").EnumerateArray(), r => r.GetProperty("key").GetString() == "cpu-costs");
        Assert.Equal(40 / 3600.0, row.GetProperty("computeHours").GetDouble(), 4);
        Assert.Equal(0, row.GetProperty("gpuHours").GetDouble());
        Assert.Equal(JsonValueKind.Null, row.GetProperty("efficiency").ValueKind);
        Assert.Equal(0.40m, row.GetProperty("cost").GetDecimal());
    }
}
