using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Local.Isolation;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Experiments;

/// <summary>
/// Jobs run hostile code: these jobs try what an attacker would — read the portal's environment, its key
/// ring and database, another run's folder, write outside their own folder, smuggle files out through
/// links — and the operating system refuses them. Each way the local backend can run is tried: its own
/// user inside bubblewrap (the default here), its own user alone, the portal's user inside bubblewrap.
/// </summary>
public class JobIsolationTests
{
    private const string Secret = "portal-secret-7c1f";

    [Theory]
    [InlineData("mlops-job", "Auto", "as OS user mlops-job inside bubblewrap")]
    [InlineData("mlops-job", "None", "as OS user mlops-job (no sandbox)")]
    [InlineData("", "Bubblewrap", "as the portal's own OS user inside bubblewrap")]
    public async Task AHostileJob_CannotReachThePortalsSecretsDataOrOtherRuns(string user, string sandbox, string summary)
    {
        // What the portal was started with lives in its process environment; a job must see none of it.
        Environment.SetEnvironmentVariable("PORTAL_ISOLATION_TEST_SECRET", Secret);
        using var portal = new PortalFactory().With("Portal:Isolation:User", user).With("Portal:Isolation:Sandbox", sandbox);
        var client = portal.ClientFor("scientist@demo.local");
        var data = portal.Services.GetRequiredService<DataDirectory>();
        var isolation = portal.Services.GetRequiredService<ProcessIsolation>();
        Assert.Equal(summary, isolation.State.Summary);

        // A first job keeps a file in its folder while a second one goes looking for it.
        var neighbour = await SubmitAsync(client, new { experiment = "isolation", command = $"echo {Secret} > mine.txt; sleep 4" });
        await WaitForAsync(client, neighbour.JobId, "Running");
        var neighbourFolder = isolation.WorkFolderOf(neighbour.RunId);
        await JobsApiTests.WaitUntilAsync(() => Task.FromResult(File.Exists(Path.Combine(neighbourFolder, "mine.txt"))), "the first job's file");

        var probe = string.Join("; ",
            "env",
            Try("keys", $"cat {data.KeysFolder}/*.xml"),
            Try("database", $"head -c 16 {data.DatabaseFile}"),
            Try("data-folder", $"ls {data.Root}"),
            Try("neighbour", $"cat {neighbourFolder}/mine.txt"),
            Try("neighbour-log", $"cat {data.RunsFolder}/{neighbour.RunId}/job.log"),
            // Writes are judged by what reaches the disk: inside the sandbox a hidden folder may be an empty private one.
            $"echo x > {data.Root}/planted", $"echo x > {isolation.WorkRoot}/planted", $"echo x > {data.RunsFolder}/{neighbour.RunId}/job.log",
            Try("write-system", "echo x > /usr/local/planted"),
            Try("own-folder", "echo mine > outputs/own.txt"));
        var job = await SubmitAsync(client, new { experiment = "isolation", command = probe, environment = new Dictionary<string, string> { ["TEAM_SETTING"] = "kept" } });
        await WaitForAsync(client, job.JobId, "Completed");
        var log = await client.GetStringAsync($"/api/v1/jobs/{job.JobId}/logs");

        Assert.DoesNotContain(Secret, log);
        Assert.DoesNotContain("<key", log);
        Assert.DoesNotContain("SQLite format", log);
        foreach (var attempt in new[] { "keys", "database", "data-folder", "neighbour", "neighbour-log", "write-system" })
        {
            Assert.Contains($"refused:{attempt}", log);
        }

        Assert.Contains("allowed:own-folder", log);
        Assert.False(File.Exists(Path.Combine(data.Root, "planted")));
        Assert.False(File.Exists(Path.Combine(isolation.WorkRoot, "planted")));
        Assert.False(File.Exists("/usr/local/planted"));
        var names = log.Split('\n').TakeWhile(l => !l.StartsWith("refused:", StringComparison.Ordinal) && !l.StartsWith("allowed:", StringComparison.Ordinal))
            .Where(l => l.Contains('=', StringComparison.Ordinal)).Select(l => l[..l.IndexOf('=', StringComparison.Ordinal)]).ToList();
        Assert.All(names, name => Assert.True(
            name is "PATH" or "HOME" or "LANG" or "PWD" or "PORTAL_JOB_ID" or "PYTHONUNBUFFERED" or "TEAM_SETTING" || name.StartsWith("MLFLOW_", StringComparison.Ordinal),
            $"The job's environment holds {name}, which the portal did not give it."));
        Assert.Contains("TEAM_SETTING=kept", log);
        Assert.Contains($"HOME={isolation.WorkFolderOf(job.RunId)}", log);
        var artifacts = await (await client.GetAsync($"/api/v1/runs/{job.RunId}/artifacts")).JsonAsync();
        Assert.Contains(artifacts.EnumerateArray(), a => a.GetProperty("path").GetString() == "outputs/own.txt");
        await WaitForAsync(client, neighbour.JobId, "Completed");
        Assert.DoesNotContain("x", await client.GetStringAsync($"/api/v1/jobs/{neighbour.JobId}/logs"));
    }

    [Fact]
    public async Task LinksFifosAndBackgroundProcesses_LeftByAJob_DoNotLeakOrHangThePortal()
    {
        using var portal = new PortalFactory();
        var client = portal.ClientFor("scientist@demo.local");
        var keys = portal.Services.GetRequiredService<DataDirectory>().KeysFolder;
        var marker = $"{Random.Shared.Next(100, 999)}.{Random.Shared.Next(100, 999)}";
        var job = await SubmitAsync(client, new
        {
            experiment = "isolation",
            command = $"ln -s /etc/shadow outputs/shadow; ln -s {keys} outputs/keys; ln -s / outputs/root; mkfifo outputs/pipe; "
                + $"echo fine > outputs/fine.txt; setsid sleep {marker} & echo started",
        });

        await WaitForAsync(client, job.JobId, "Completed");

        var paths = (await (await client.GetAsync($"/api/v1/runs/{job.RunId}/artifacts")).JsonAsync()).EnumerateArray()
            .Select(a => a.GetProperty("path").GetString()).ToList();
        Assert.Equal(["logs/job.log", "outputs/fine.txt"], paths.Order(StringComparer.Ordinal));
        // The job tried to outlive itself in a session of its own; its sandbox ended with it.
        await JobsApiTests.WaitUntilAsync(() => Task.FromResult(JobsApiTests.SleepersWith(marker) == 0), "the job's background process to be gone");
        Assert.False(Directory.Exists(portal.Services.GetRequiredService<ProcessIsolation>().WorkFolderOf(job.RunId)), "The job's working folder was left behind.");
    }

    [Fact]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task TheDataFolder_IsThePortalsAlone()
    {
        using var portal = new PortalFactory();
        var data = portal.Services.GetRequiredService<DataDirectory>();
        await portal.ClientFor("admin@demo.local").GetAsync("/api/v1/me");

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data.Root));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(data.DatabaseFile));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data.KeysFolder));
    }

    [Fact]
    public async Task JobVariables_ThatThePortalSetsItself_AreRefused_AndNothingIsSubmitted()
    {
        using var portal = new PortalFactory();
        var client = portal.ClientFor("scientist@demo.local");

        var response = await client.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "isolation",
            command = "env",
            environment = new Dictionary<string, string> { ["MLFLOW_TRACKING_TOKEN"] = "stolen", ["HOME"] = "/", ["BAD NAME"] = "x", ["OK"] = "a\0b" },
        });

        var errors = (await response.JsonAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("environment").EnumerateArray().Select(e => e.GetString()!).ToList();
        Assert.Contains(errors, e => e.Contains("environment.MLFLOW_TRACKING_TOKEN: the portal sets this variable itself", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("environment.HOME", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("'BAD NAME' is not a name", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.Contains("environment.OK", StringComparison.Ordinal));
        Assert.Equal(0, (await (await client.GetAsync("/api/v1/jobs?take=500")).JsonAsync()).EnumerateArray().Count(j => j.GetProperty("command").GetString() == "env"));
    }

    [Fact]
    public void AWorkRootInsideTheDataFolder_IsRefusedAtStartUp()
    {
        using var data = new TempFolder();

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            ProcessIsolation.ResolveWorkRoot(Path.Combine(data.Path, "work"), new DataDirectory(data.Path), "/"));

        Assert.Contains("must be outside the data folder", refused.Message);
    }

    [Theory]
    [InlineData("site-packages")]
    [InlineData("/opt/a:/opt/b")]
    public void APythonPathEntryThatIsNotOneAbsoluteFolder_IsRefusedAtStartUp(string entry)
    {
        using var data = new TempFolder();

        var refused = Assert.Throws<Microsoft.Extensions.Options.OptionsValidationException>(() =>
            new InfrastructureBuilder(data.Path).With("Portal:Local:PythonPath:0", entry).Build());

        Assert.Contains("Portal:Local:PythonPath", refused.Message, StringComparison.Ordinal);
        Assert.Contains(entry, refused.Message, StringComparison.Ordinal);
    }

    /// <summary>A shell step that prints refused:NAME when the command fails and allowed:NAME when it works.</summary>
    private static string Try(string name, string command) => $"if ({command}) >/dev/null 2>&1; then echo allowed:{name}; else echo refused:{name}; fi";

    private static async Task<(string JobId, string RunId)> SubmitAsync(HttpClient client, object body)
    {
        var job = await (await client.PostAsJsonAsync("/api/v1/jobs", body)).JsonAsync(HttpStatusCode.Accepted);
        return (job.GetProperty("jobId").GetString()!, job.GetProperty("runId").GetString()!);
    }

    private static async Task WaitForAsync(HttpClient client, string jobId, string status)
    {
        JsonElement job = default;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            job = await (await client.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync();
            var now = job.GetProperty("status").GetString();
            Assert.False(now is "Failed" or "Canceled" && now != status, $"Job {jobId} ended {now}: {job}");
            return now == status;
        }, $"job {jobId} to be {status}");
    }
}
