using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Jobs;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Experiments;

/// <summary>Job and run state across a portal restart, and runs whose client went away.</summary>
public class JobRestartTests
{
    [Fact]
    public async Task AfterARestart_ALiveJobIsReattached_AndAJobWhoseProcessDiedIsLost()
    {
        using var data = new TempFolder("portal-restart");
        string survivor, victim;
        int victimPid;
        using (var first = new PortalFactory().With("Portal:DataDirectory", data.Path))
        {
            var client = first.ClientFor("scientist@demo.local");
            survivor = await SubmitAsync(client, "sleep 2; echo survived");
            victim = await SubmitAsync(client, "sleep 300");
            await WaitForAsync(client, survivor, "Running");
            victimPid = (await WaitForAsync(client, victim, "Running")).pid;
        }

        // The portal is down; the victim's process dies meanwhile.
        Process.GetProcessById(victimPid).Kill(entireProcessTree: true);

        using var second = new PortalFactory().With("Portal:DataDirectory", data.Path);
        var again = second.ClientFor("scientist@demo.local");
        var lost = await WaitForAsync(again, victim, "Failed");
        Assert.StartsWith("lost", lost.job.GetProperty("reason").GetString());
        var run = await (await again.GetAsync($"/api/v1/runs/{lost.job.GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal("Failed", run.GetProperty("status").GetString());

        var finished = await WaitForAsync(again, survivor, "Completed");
        Assert.Equal(0, finished.job.GetProperty("exitCode").GetInt32());
        Assert.Contains("survived", await again.GetStringAsync($"/api/v1/jobs/{survivor}/logs"));
    }

    [Fact]
    public async Task ARunningRunWithoutHeartbeatOrProcess_BecomesFailedLost_ButOneWithALiveJobDoesNot()
    {
        using var portal = new PortalFactory();
        var client = portal.ClientFor("scientist@demo.local");
        var experiment = (await (await client.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "watchdog" })).JsonAsync()).GetProperty("experiment_id").GetString();
        var scriptRun = (await (await client.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync())
            .GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        var jobId = await SubmitAsync(client, "sleep 20");
        var (job, _) = await WaitForAsync(client, jobId, "Running");

        portal.Time.Advance(TimeSpan.FromMinutes(61));
        var lost = await portal.Services.GetRequiredService<RunWatchdog>().SweepAsync(CancellationToken.None);

        Assert.Equal(1, lost);
        var run = (await (await client.GetAsync($"/api/2.0/mlflow/runs/get?run_id={scriptRun}")).JsonAsync()).GetProperty("run");
        Assert.Equal("FAILED", run.GetProperty("info").GetProperty("status").GetString());
        Assert.Contains(run.GetProperty("data").GetProperty("tags").EnumerateArray(), t => t.GetProperty("value").GetString()!.StartsWith("lost: no heartbeat", StringComparison.Ordinal));
        var jobRun = await (await client.GetAsync($"/api/v1/runs/{job.GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal("Running", jobRun.GetProperty("status").GetString());
        await client.PostAsync($"/api/v1/jobs/{jobId}/cancel", null);
    }

    private static async Task<string> SubmitAsync(HttpClient client, string command) =>
        (await (await client.PostAsJsonAsync("/api/v1/jobs", new { experiment = "restart", command })).JsonAsync(HttpStatusCode.Accepted)).GetProperty("jobId").GetString()!;

    private static async Task<(JsonElement job, int pid)> WaitForAsync(HttpClient client, string jobId, string status)
    {
        JsonElement job = default;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            job = await (await client.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync();
            return job.GetProperty("status").GetString() == status;
        }, $"job {jobId} to be {status}");
        return (job, job.TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number ? pid.GetInt32() : 0);
    }
}
