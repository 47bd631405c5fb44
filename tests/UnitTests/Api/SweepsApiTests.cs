using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>Sweeps launch real jobs as trials; the test plays the training script by logging the objective.</summary>
public class SweepsApiTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _scientist = portal.ClientFor("scientist@demo.local");

    [Fact]
    public async Task AGridSweep_RunsEveryCombination_NeverMoreThanMaxConcurrent_AndRanksTrials()
    {
        var created = await (await _scientist.PostAsJsonAsync("/api/v1/sweeps", new
        {
            experiment = "sweep-test",
            command = "sleep 1.5",
            strategy = "grid",
            space = new Dictionary<string, object> { ["depth"] = new[] { 2, 4 }, ["kind"] = new[] { "a", "b" } },
            objective = "auc",
            direction = "maximize",
            maxTrials = 10,
            maxConcurrent = 2,
        })).JsonAsync(HttpStatusCode.Created);
        var sweepId = created.GetProperty("sweepId").GetString()!;
        Assert.Equal(4, created.GetProperty("trials").GetInt32());

        var logged = new HashSet<string>();
        var mostRunning = 0;
        JsonElement sweep = default;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            sweep = await (await _scientist.GetAsync($"/api/v1/sweeps/{sweepId}")).JsonAsync();
            var trials = sweep.GetProperty("trials").EnumerateArray().ToList();
            mostRunning = Math.Max(mostRunning, trials.Count(t => t.GetProperty("status").GetString() == "Running"));
            foreach (var trial in trials.Where(t => t.GetProperty("status").GetString() == "Running"))
            {
                var runId = trial.GetProperty("runId").GetString()!;
                if (logged.Add(runId))
                {
                    // The "training": deeper is better, kind does not matter.
                    var depth = int.Parse(trial.GetProperty("params").GetProperty("depth").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
                    var kind = trial.GetProperty("params").GetProperty("kind").GetString();
                    await _scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/log-metric", new { run_id = runId, key = "auc", value = 0.5 + (depth * 0.05) + (kind == "a" ? 0.001 : 0), timestamp = 1 });
                }
            }

            return sweep.GetProperty("status").GetString() == "Completed";
        }, "the sweep to complete");

        Assert.InRange(mostRunning, 1, 2);
        var ranked = sweep.GetProperty("trials").EnumerateArray().ToList();
        Assert.Equal(4, ranked.Count);
        Assert.Equal(["2", "2", "4", "4"], ranked.Select(t => t.GetProperty("params").GetProperty("depth").GetString()).Order());
        Assert.Equal(4, logged.Count);
        Assert.Equal("4", ranked[0].GetProperty("params").GetProperty("depth").GetString());
        Assert.Equal("a", ranked[0].GetProperty("params").GetProperty("kind").GetString());
        var importance = sweep.GetProperty("importance").EnumerateArray().ToList();
        Assert.Equal("depth", importance[0].GetProperty("param").GetString());
        Assert.True(importance[0].GetProperty("importance").GetDouble() > 0.9);

        var parent = await (await _scientist.GetAsync($"/api/v1/runs/{sweep.GetProperty("parentRunId").GetString()}")).JsonAsync();
        Assert.Equal("Finished", parent.GetProperty("status").GetString());
        Assert.Equal(ranked[0].GetProperty("runId").GetString(), parent.GetProperty("tags").GetProperty("portal.sweep.best_run").GetString());
        var child = await (await _scientist.GetAsync($"/api/v1/runs/{ranked[3].GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal(sweep.GetProperty("parentRunId").GetString(), child.GetProperty("parentRunId").GetString());
    }

    [Fact]
    public async Task ABadSpace_IsRefused_NamingTheParam_AndNothingIsCreated()
    {
        var response = await _scientist.PostAsJsonAsync("/api/v1/sweeps", new
        {
            experiment = "sweep-test",
            command = "sleep 1",
            strategy = "grid",
            space = new Dictionary<string, object> { ["lr"] = new { min = 0.1, max = 0.01 } },
            objective = "auc",
        });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("space.lr", problem.GetProperty("detail").GetString());
    }
}
