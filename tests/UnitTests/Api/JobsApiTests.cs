using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>A portal whose jobs keep at most 1 MB of log, to see what happens above it.</summary>
public sealed class JobsPortal : PortalFactory
{
    public JobsPortal() => With("Portal:Jobs:MaxLogMegabytes", "1");
}

/// <summary>Jobs are real processes: these tests run shell commands through the local backend.</summary>
public class JobsApiTests(JobsPortal portal) : IClassFixture<JobsPortal>
{
    private readonly HttpClient _scientist = portal.ClientFor("scientist@demo.local");

    [Fact]
    public async Task AJob_GetsItsInputsAndParams_AndItsOutputsBecomeRunArtifacts()
    {
        await portal.WaitForDemoDataAsync();
        var submitted = await SubmitAsync(new
        {
            experiment = "jobs-test",
            command = "echo \"lines $(wc -l < \"$INPUT_TRAIN\")\" depth ${{params.depth}} run \"$MLFLOW_RUN_ID\"; mkdir -p outputs/sub; printf hello > outputs/sub/result.txt",
            inputs = new { train = "dataset:credit-risk:1" },
            @params = new { depth = "5" },
        });
        var runId = submitted.GetProperty("runId").GetString()!;

        var job = await WaitForAsync(submitted.GetProperty("jobId").GetString()!, "Completed");

        Assert.Equal(0, job.GetProperty("exitCode").GetInt32());
        var log = await _scientist.GetStringAsync($"/api/v1/jobs/{job.GetProperty("jobId").GetString()}/logs");
        Assert.True(log.Contains($"lines 2001 depth 5 run {runId}", StringComparison.Ordinal), log);
        var artifacts = await (await _scientist.GetAsync($"/api/v1/runs/{runId}/artifacts")).JsonAsync();
        Assert.Contains(artifacts.EnumerateArray(), a => a.GetProperty("path").GetString() == "outputs/sub/result.txt" && a.GetProperty("size").GetInt64() == 5);
        Assert.Equal("hello", await _scientist.GetStringAsync($"/api/v1/runs/{runId}/artifacts/outputs/sub/result.txt"));
        var run = await (await _scientist.GetAsync($"/api/v1/runs/{runId}")).JsonAsync();
        Assert.Equal("Finished", run.GetProperty("status").GetString());
        Assert.Equal("5", run.GetProperty("params").GetProperty("depth").GetString());
        Assert.Equal("dataset:credit-risk:1", run.GetProperty("inputs")[0].GetString());
        var lineage = await (await _scientist.GetAsync($"/api/v1/lineage?artifact=run:{runId}&direction=upstream&depth=1")).JsonAsync();
        Assert.Contains(lineage.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("ref").GetString() == "dataset:credit-risk:1");
    }

    [Fact]
    public async Task BadSubmissions_NameTheField_AndCreateNothing()
    {
        var before = (await (await _scientist.GetAsync("/api/v1/jobs?take=500")).JsonAsync()).GetArrayLength();

        var response = await _scientist.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "jobs-test",
            command = "no-such-program --fast",
            codePath = "../../etc",
            inputs = new Dictionary<string, string> { ["train"] = "dataset:credit-risk:99", ["bad name"] = "dataset:credit-risk:1" },
            compute = "gpu-cluster",
        });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        var errors = problem.GetProperty("errors");
        Assert.Contains("'no-such-program' was not found", errors.GetProperty("command")[0].GetString());
        Assert.Contains("inside the code root", errors.GetProperty("codePath")[0].GetString());
        Assert.Contains("compute", errors.EnumerateObject().Select(e => e.Name));
        var inputs = errors.GetProperty("inputs").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(inputs, e => e.Contains("no dataset version dataset:credit-risk:99", StringComparison.Ordinal));
        Assert.Contains(inputs, e => e.Contains("'bad name' is not an input name", StringComparison.Ordinal));
        Assert.Equal(before, (await (await _scientist.GetAsync("/api/v1/jobs?take=500")).JsonAsync()).GetArrayLength());
    }

    [Fact]
    public async Task AFailingCommand_FailsTheJobAndTheRun_WithTheExitCode()
    {
        var submitted = await SubmitAsync(new { experiment = "jobs-test", command = "echo about to fail >&2; exit 3" });

        var job = await WaitForAsync(submitted.GetProperty("jobId").GetString()!, "Failed");

        Assert.Equal(3, job.GetProperty("exitCode").GetInt32());
        Assert.Contains("about to fail", await _scientist.GetStringAsync($"/api/v1/jobs/{job.GetProperty("jobId").GetString()}/logs"));
        var run = await (await _scientist.GetAsync($"/api/v1/runs/{submitted.GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal("Failed", run.GetProperty("status").GetString());
        Assert.Equal("exit code 3", run.GetProperty("tags").GetProperty("mlflow.portal.failure").GetString());
    }

    [Fact]
    public async Task AModelInput_IsTheRegisteredFolder_AndBytesAlteredInTheStore_FailTheJobBeforeItRuns()
    {
        var model = $"in-{Guid.NewGuid():N}"[..12];
        var loader = $"# the registered loader {model}\n";
        var version = await ServedModels.ApprovedPyFuncAsync(portal.Services, model, loader);
        var input = new { champion = $"model:{model}:{version.Version}" };

        var intact = await WaitForAsync((await SubmitAsync(new { experiment = "jobs-test", command = "cat \"$INPUT_CHAMPION/code/testmodel.py\"", inputs = input }))
            .GetProperty("jobId").GetString()!, "Completed");
        Assert.Contains(loader.Trim(), await _scientist.GetStringAsync($"/api/v1/jobs/{intact.GetProperty("jobId").GetString()}/logs"), StringComparison.Ordinal);

        var registry = portal.Services.GetRequiredService<Portal.Infrastructure.Models.ModelRegistry>();
        var hash = (await registry.BoundFilesAsync(version, CancellationToken.None)).Single(f => f.Path == "code/testmodel.py").Hash;
        await File.AppendAllTextAsync(Path.Combine(portal.DataDirectory, "artifacts", "sha256", hash[..2], hash), "print('not what was approved')\n");
        var altered = await WaitForAsync((await SubmitAsync(new { experiment = "jobs-test", command = "cat \"$INPUT_CHAMPION/code/testmodel.py\"", inputs = input }))
            .GetProperty("jobId").GetString()!, "Failed");

        Assert.Contains("the artifact store was altered", altered.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task CancellingTwice_StopsTheWholeProcessTreeOnce()
    {
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100, 999)}";
        var submitted = await SubmitAsync(new { experiment = "jobs-test", command = $"sleep {marker} & sleep {marker}; wait" });
        var jobId = submitted.GetProperty("jobId").GetString()!;
        await WaitForAsync(jobId, "Running");
        await WaitUntilAsync(() => Task.FromResult(SleepersWith(marker) == 2));

        var first = await (await _scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).JsonAsync();
        var second = await (await _scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).JsonAsync();

        Assert.Contains("being canceled", first.GetProperty("message").GetString());
        Assert.Matches("already (being canceled|ended)", second.GetProperty("message").GetString());
        await WaitForAsync(jobId, "Canceled");
        Assert.Equal(0, SleepersWith(marker));
        var run = await (await _scientist.GetAsync($"/api/v1/runs/{submitted.GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal("Killed", run.GetProperty("status").GetString());
        var third = await (await _scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).JsonAsync();
        Assert.Contains("had already ended (Canceled)", third.GetProperty("message").GetString());
    }

    [Fact]
    public async Task AJobThatNeverExits_IsStoppedAtItsTimeout()
    {
        var submitted = await SubmitAsync(new { experiment = "jobs-test", command = "sleep 600", timeoutMinutes = 1 });
        var jobId = submitted.GetProperty("jobId").GetString()!;
        await WaitForAsync(jobId, "Running");

        portal.Time.Advance(TimeSpan.FromMinutes(2));

        var job = await WaitForAsync(jobId, "Failed");
        Assert.Equal("timed out after 00:01:00", job.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task AFloodOfOutput_IsCappedAtTheLogLimit_AndSaysHowMuchWasDropped()
    {
        var submitted = await SubmitAsync(new { experiment = "jobs-test", command = "echo first line; head -c 8000000 /dev/zero | tr '\\0' x; echo" });
        var jobId = submitted.GetProperty("jobId").GetString()!;
        await WaitForAsync(jobId, "Completed");

        var response = await _scientist.GetAsync($"/api/v1/jobs/{jobId}/logs");
        var log = await response.Content.ReadAsStringAsync();
        Assert.StartsWith("first line", log);
        Assert.InRange(log.Length, 1 << 20, (1 << 20) + 200);
        Assert.Contains("[portal] log truncated", log);
        Assert.InRange(long.Parse(response.Headers.GetValues("X-Log-Dropped-Bytes").Single(), System.Globalization.CultureInfo.InvariantCulture), 6_000_000, 8_000_000);
    }

    [Fact]
    public async Task AViewer_CannotSubmitOrCancel()
    {
        var viewer = portal.ClientFor("viewer@demo.local");

        var response = await viewer.PostAsJsonAsync("/api/v1/jobs", new { experiment = "jobs-test", command = "echo hi" });

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private async Task<JsonElement> SubmitAsync(object body) =>
        await (await _scientist.PostAsJsonAsync("/api/v1/jobs", body)).JsonAsync(HttpStatusCode.Accepted);

    private async Task<JsonElement> WaitForAsync(string jobId, string status)
    {
        JsonElement job = default;
        await WaitUntilAsync(async () =>
        {
            job = await (await _scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync();
            return job.GetProperty("status").GetString() == status;
        }, $"job {jobId} to be {status}");
        return job;
    }

    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, string what = "the condition")
    {
        var until = DateTime.UtcNow.AddSeconds(60);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < until, $"Waited 60 s for {what}.");
            await Task.Delay(100);
        }
    }

    /// <summary>How many processes run <c>sleep {marker}</c> (a unique length finds a job's processes).</summary>
    internal static int SleepersWith(string marker)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", $"^sleep {marker}$"]) { RedirectStandardOutput = true })!;
        var output = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }
}
