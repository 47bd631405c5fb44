using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>Gated canaries on real model servers; the bake clock is the portal's (tests move it).</summary>
public class RolloutTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    [Fact]
    public async Task AGoodCanary_StepsThroughItsPlan_OnceHealthy_AndTakesAllTraffic()
    {
        var endpoint = await StableAsync(ServedModels.Doubler);

        var started = await StartAsync(endpoint, steps: [50, 100]);
        Assert.Equal("Baking", started.GetProperty("rollout").GetProperty("state").GetString());
        Assert.Equal(50, started.GetProperty("traffic").GetProperty("canary").GetInt32());

        await DriveAsync(endpoint, until: e => e.GetProperty("traffic").TryGetProperty("canary", out var c) && c.GetInt32() == 100 && e.GetProperty("rollout").ValueKind == JsonValueKind.Null);

        var done = await portal.EndpointAsync(endpoint);
        Assert.Equal("Completed", done.GetProperty("pastRollouts")[0].GetProperty("state").GetString());
        Assert.False(done.GetProperty("traffic").TryGetProperty("blue", out _));
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=endpoint:{endpoint}")).JsonAsync();
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "rollout.started" && e.GetProperty("actor").GetString() == "ops@demo.local");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "rollout.progressed" && (e.GetProperty("after").GetString() ?? "").Contains("Every step passed", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ACanaryBreachingItsErrorGate_RollsBackAtOnce_WithAnAlertAndAnAuditEntry()
    {
        var endpoint = await StableAsync(ServedModels.FailsOnNegatives);

        await StartAsync(endpoint, steps: [50, 100]);
        // The canary fails every request with a negative x (the primary too: the gate compares with 5 % absolutely).
        await DriveAsync(endpoint, x: -1, until: e => e.GetProperty("rollout").ValueKind == JsonValueKind.Null);

        var after = await portal.EndpointAsync(endpoint);
        var ended = after.GetProperty("pastRollouts")[0];
        Assert.Equal("RolledBack", ended.GetProperty("state").GetString());
        Assert.Contains("gate breached: error rate above 5%", ended.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(100, after.GetProperty("traffic").GetProperty("blue").GetInt32());
        Assert.False(after.GetProperty("traffic").TryGetProperty("canary", out _));
        var alerts = await (await portal.Ops.GetAsync($"/api/v1/alerts?endpoint={endpoint}")).JsonAsync();
        var alert = alerts.EnumerateArray().Single();
        Assert.Equal("Critical", alert.GetProperty("severity").GetString());
        Assert.Contains("Automatic rollback of canary", alert.GetProperty("title").GetString(), StringComparison.Ordinal);
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=endpoint:{endpoint}")).JsonAsync();
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "endpoint.traffic-changed"
            && (e.GetProperty("reason").GetString() ?? "").StartsWith("AutomaticRollback", StringComparison.Ordinal));

        var acknowledged = await (await portal.Ops.PostAsync($"/api/v1/alerts/{alert.GetProperty("id").GetString()}/acknowledge", null)).JsonAsync();
        Assert.Equal("Resolved", acknowledged.GetProperty("state").GetString());
    }

    [Fact]
    public async Task ARolloutOfACanaryThatCrashes_RollsBackSayingWhy_AndTheBaselineNeverLostTraffic()
    {
        var endpoint = await StableAsync(ServedModels.CrashesOnLoad, waitForCanary: false);

        await StartAsync(endpoint, steps: [10, 100]);
        await ServingPortal.WaitUntilAsync(async () => (await portal.EndpointAsync(endpoint)).GetProperty("rollout").ValueKind == JsonValueKind.Null, "the rollout to end");

        var ended = (await portal.EndpointAsync(endpoint)).GetProperty("pastRollouts")[0];
        Assert.Equal("RolledBack", ended.GetProperty("state").GetString());
        Assert.Contains("the weights file is corrupt", ended.GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(100, (await portal.EndpointAsync(endpoint)).GetProperty("traffic").GetProperty("blue").GetInt32());
    }

    public static TheoryData<object, string> BadPlans => new()
    {
        { new { canary = "canary", steps = new[] { 50, 10, 100 }, bakeSeconds = 10, gates = new[] { new { metric = "ErrorRate", threshold = 0.05 } } }, "steps" },
        { new { canary = "canary", steps = new[] { 100 }, bakeSeconds = 10, gates = Array.Empty<object>() }, "gates" },
        { new { canary = "canary", steps = new[] { 100 }, bakeSeconds = 10, gates = new[] { new { metric = "Vibes", threshold = 0.05 } } }, "gates[0].metric" },
        { new { canary = "blue", steps = new[] { 100 }, bakeSeconds = 10, gates = new[] { new { metric = "ErrorRate", threshold = 0.05 } } }, "canary" },
        { new { canary = "canary", steps = new[] { 100 }, bakeSeconds = 1, gates = new[] { new { metric = "ErrorRate", threshold = 0.05 } } }, "bakeSeconds" },
    };

    [Theory]
    [MemberData(nameof(BadPlans))]
    public async Task ABadPlan_Is400NamingTheField_AndTrafficIsUntouched(object plan, string field)
    {
        var endpoint = await StableAsync(ServedModels.Doubler, waitForCanary: false);

        var response = await portal.Ops.PostAsJsonAsync($"/api/v1/endpoints/{endpoint}/rollouts", plan);

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        var after = await portal.EndpointAsync(endpoint);
        Assert.Equal(JsonValueKind.Null, after.GetProperty("rollout").ValueKind);
        Assert.Equal(100, after.GetProperty("traffic").GetProperty("blue").GetInt32());
    }

    /// <summary>Calls the endpoint and moves the portal's clock on, step after step, until <paramref name="until"/> holds.</summary>
    private async Task DriveAsync(string endpoint, Func<JsonElement, bool> until, double x = 1)
    {
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!until(await portal.EndpointAsync(endpoint)))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The rollout of {endpoint} did not get there: {await portal.EndpointAsync(endpoint)}");
            for (var i = 0; i < 30; i++)
            {
                await portal.ScoreAsync(endpoint, new { inputs = new[] { new { x } } });
            }

            portal.Time.Advance(TimeSpan.FromSeconds(6));
            await Task.Delay(1200);
        }
    }

    private async Task<JsonElement> StartAsync(string endpoint, int[] steps)
    {
        var response = await portal.Ops.PostAsJsonAsync($"/api/v1/endpoints/{endpoint}/rollouts", new
        {
            canary = "canary",
            steps,
            bakeSeconds = 5,
            minRequestsPerStep = 5,
            waitForHealthySeconds = 60,
            gates = new object[] { new { metric = "ErrorRate", threshold = 0.05 }, new { metric = "P95LatencyMs", threshold = 5, mode = "RelativeToPrimary" } },
        });
        return await response.JsonAsync(HttpStatusCode.Accepted);
    }

    /// <summary>blue (a doubler) takes all traffic; canary runs <paramref name="canaryLoader"/> with none.</summary>
    private async Task<string> StableAsync(string canaryLoader, bool waitForCanary = true)
    {
        var name = $"ro-{Guid.NewGuid():N}"[..10];
        var blue = await portal.ApprovedAsync(ServedModels.Doubler);
        var canary = await portal.ApprovedAsync(canaryLoader);
        await portal.PutAsync(name, ServingPortal.Deployment("blue", blue, 100), ServingPortal.Deployment("canary", canary, 0));
        await portal.WaitForStateAsync(name, "blue", "Healthy");
        if (waitForCanary)
        {
            await portal.WaitForStateAsync(name, "canary", "Healthy");
            // Warmed with pinned requests, as Ops would: a model's first answers are slow, and the latency gate would see that.
            for (var i = 0; i < 10; i++)
            {
                await portal.ScoreAsync(name, new { inputs = new[] { new { x = 1 } } }, pin: "canary");
            }
        }

        return name;
    }
}
