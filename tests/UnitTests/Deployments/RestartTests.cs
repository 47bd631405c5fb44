using System.Net;
using System.Net.Http.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>A portal restart: model servers keep running and are re-attached, a rollout in progress resumes and says so.</summary>
public class RestartTests
{
    [Fact]
    public async Task AfterARestart_TheSameInstancesServeAgain_AndTheRolloutResumesSayingSo()
    {
        using var data = new TempFolder("portal-restart");
        int pid;
        using (var first = new ServingPortal().With("Portal:DataDirectory", data.Path).With("Portal:Deployments:StopInstancesOnShutdown", "false"))
        {
            var blue = await ((ServingPortal)first).ApprovedAsync(ServedModels.Doubler);
            var canary = await ((ServingPortal)first).ApprovedAsync(ServedModels.Doubler);
            var portal = (ServingPortal)first;
            await portal.PutAsync("survivor", ServingPortal.Deployment("blue", blue, 100), ServingPortal.Deployment("canary", canary, 0));
            pid = (await portal.WaitForStateAsync("survivor", "blue", "Healthy")).GetProperty("instances")[0].GetProperty("processId").GetInt32();
            await portal.WaitForStateAsync("survivor", "canary", "Healthy");
            (await portal.Ops.PostAsJsonAsync("/api/v1/endpoints/survivor/rollouts", new
            {
                canary = "canary", steps = new[] { 50, 100 }, bakeSeconds = 600, gates = new[] { new { metric = "ErrorRate", threshold = 0.05 } },
            })).EnsureSuccessStatusCode();
        }

        using var second = (ServingPortal)new ServingPortal().With("Portal:DataDirectory", data.Path);
        await ServingPortal.WaitUntilAsync(async () =>
        {
            var blue = ServingPortal.DeploymentOf(await second.EndpointAsync("survivor"), "blue");
            return blue.GetProperty("state").GetString() == "Healthy" && blue.GetProperty("instances").GetArrayLength() == 1
                && blue.GetProperty("instances")[0].GetProperty("processId").GetInt32() == pid && blue.GetProperty("instances")[0].GetProperty("state").GetString() == "Ready";
        }, "blue to be re-attached to its running process");

        var endpoint = await second.EndpointAsync("survivor");
        var rollout = endpoint.GetProperty("rollout");
        Assert.Equal("Baking", rollout.GetProperty("state").GetString());
        Assert.Contains(rollout.GetProperty("timeline").EnumerateArray(), e => e.GetProperty("message").GetString()!.Contains("The portal restarted during the step at 50 %", StringComparison.Ordinal));
        Assert.Equal(50, endpoint.GetProperty("traffic").GetProperty("canary").GetInt32());
        var response = await second.ScoreAsync("survivor", new { inputs = new[] { new { x = 4 } }, }, pin: "blue");
        Assert.Equal(8.0, (await response.JsonAsync(HttpStatusCode.OK)).GetProperty("predictions")[0].GetDouble());
    }
}
