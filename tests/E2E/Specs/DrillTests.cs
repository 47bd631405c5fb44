using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.E2E.Fixtures;

namespace Portal.E2E.Specs;

/// <summary>
/// Fault drills: the portal is killed outright (SIGKILL) in the middle of work and started again on the
/// same data folder. A job running in its sandbox carries on and is picked up again; demo seeding carries on
/// from where it stopped, without doing anything twice.
/// </summary>
[Collection(PortalCollection.Name)]
public class DrillTests
{
    private const string Password = "Drill-Demo-Passw0rd!";

    [Fact]
    public async Task KilledWhileAJobRuns_TheRestartedPortalPicksItUp_AndKeepsItsOutputs()
    {
        var data = NewDataFolder();
        var settings = new Dictionary<string, string> { ["Portal:Demo:GeneratedRuns"] = "0", ["Portal:Demo:RunSamples"] = "false" };
        string jobId;
        // A sleep of 6.xxxx seconds whose exact length finds the process again.
        var marker = $"6.{Random.Shared.Next(1000, 9999)}";
        await using (var first = PortalProcess.Start(data, Password, settings))
        {
            await first.WaitUntilHealthyAsync();
            var client = Client(first);
            var job = await (await client.PostAsJsonAsync("/api/v1/jobs", new
            {
                experiment = "drill",
                command = $"sleep {marker}; echo survived; echo kept > outputs/after.txt",
            })).Content.ReadFromJsonAsync<JsonElement>();
            jobId = job.GetProperty("jobId").GetString()!;
            await WaitForAsync(() => StatusAsync(client, jobId), "Running");

            await first.KillAsync();
        }

        // The job lives on without the portal, in its sandbox.
        Assert.Equal(1, Processes($"^sleep {marker}$"));
        await using var second = PortalProcess.Start(data, Password, settings);
        await second.WaitUntilHealthyAsync();
        var again = Client(second);

        await WaitForAsync(() => StatusAsync(again, jobId), "Completed", TimeSpan.FromSeconds(60));

        Assert.Contains("re-attached", second.Log);
        Assert.Contains("survived", await again.GetStringAsync($"/api/v1/jobs/{jobId}/logs"));
        var runId = (await again.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}")).GetProperty("runId").GetString();
        Assert.Equal("kept\n", await again.GetStringAsync($"/api/v1/runs/{runId}/artifacts/outputs/after.txt"));
        // Its tracking token ended with it, though the portal that issued it had died.
        var tokens = await again.GetFromJsonAsync<JsonElement>("/api/v1/tokens");
        Assert.All(tokens.EnumerateArray().Where(t => t.GetProperty("name").GetString() == $"job {jobId}"),
            t => Assert.NotEqual(JsonValueKind.Null, t.GetProperty("revokedAt").ValueKind));
        Cleanup(data);
    }

    [Fact]
    public async Task KilledWhileSeedingTheDemo_TheRestartedPortalFinishesIt_WithoutDuplicates()
    {
        const int Generated = 20_000;
        var data = NewDataFolder();
        var settings = new Dictionary<string, string> { ["Portal:Demo:GeneratedRuns"] = Generated.ToString(System.Globalization.CultureInfo.InvariantCulture), ["Portal:Demo:RunSamples"] = "false" };
        var database = Path.Combine(data, "portal.db");
        await using (var first = PortalProcess.Start(data, Password, settings))
        {
            await first.WaitUntilHealthyAsync();
            // Killed as soon as part of the generated history is in.
            await WaitForAsync(async () => HistoryRuns(database) > 0 ? "started" : "", "started", TimeSpan.FromSeconds(120), TimeSpan.FromMilliseconds(50));
            await first.KillAsync();
        }

        var before = HistoryRuns(database);
        await using var second = PortalProcess.Start(data, Password, settings);
        await second.WaitUntilHealthyAsync();

        await WaitForAsync(async () => Query(database, "SELECT COUNT(*) FROM DemoSeedRecords WHERE Step = 'experiments'") == 1 ? "done" : "", "done", TimeSpan.FromSeconds(120));

        Assert.InRange(before, 1, Generated);
        Assert.Equal(Generated, HistoryRuns(database));
        // Two credit-risk extracts and the holdout set, each once.
        Assert.Equal(3, Query(database, "SELECT COUNT(*) FROM DatasetVersions"));
        Cleanup(data);
    }

    private static int HistoryRuns(string database) =>
        Query(database, "SELECT COUNT(*) FROM Runs r JOIN Experiments e ON e.Id = r.ExperimentId WHERE e.Name = 'credit-risk-history'");

    /// <summary>One number from the portal's database, read beside the running portal (Debian's Python and sqlite3; WAL lets readers in).</summary>
    private static int Query(string database, string sql)
    {
        if (!File.Exists(database))
        {
            return 0;
        }

        using var python = Process.Start(new ProcessStartInfo("/usr/bin/python3",
            ["-c", "import sqlite3,sys\ntry:\n  print(sqlite3.connect(sys.argv[1],timeout=30).execute(sys.argv[2]).fetchone()[0])\nexcept sqlite3.OperationalError:\n  print(0)", database, sql])
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
        })!;
        var output = python.StandardOutput.ReadToEnd();
        python.WaitForExit();
        return int.TryParse(output.Trim(), out var value) ? value : 0;
    }

    private static HttpClient Client(PortalProcess portal)
    {
        var http = new HttpClient { BaseAddress = new Uri(portal.BaseUrl), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{DemoUsers.Scientist}:{Password}")));
        return http;
    }

    private static async Task<string> StatusAsync(HttpClient client, string jobId) =>
        (await client.GetFromJsonAsync<JsonElement>($"/api/v1/jobs/{jobId}")).GetProperty("status").GetString()!;

    private static async Task WaitForAsync(Func<Task<string>> probe, string wanted, TimeSpan? within = null, TimeSpan? every = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(60));
        string seen;
        while ((seen = await probe()) != wanted)
        {
            Assert.True(DateTime.UtcNow < deadline, $"Waited for '{wanted}'; last saw '{seen}'.");
            await Task.Delay(every ?? TimeSpan.FromMilliseconds(200));
        }
    }

    private static int Processes(string pattern)
    {
        using var pgrep = Process.Start(new ProcessStartInfo("pgrep", ["-f", pattern]) { RedirectStandardOutput = true })!;
        var output = pgrep.StandardOutput.ReadToEnd();
        pgrep.WaitForExit();
        return output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length;
    }

    private static string NewDataFolder() => Path.Combine(Path.GetTempPath(), $"portal-drill-{Guid.NewGuid():N}");

    private static void Cleanup(string data)
    {
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
