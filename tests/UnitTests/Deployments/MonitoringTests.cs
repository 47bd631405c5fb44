using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>Drift against the training data, alerts that open and resolve, Retrain from a drift alert, and /metrics.</summary>
public class MonitoringTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    [Fact]
    public async Task LiveInputsThatDrift_OpenADriftAlert_AndRetrainRunsTheTrainingJobOnTheNewestData()
    {
        await portal.WaitForDemoDataAsync();
        var scientist = portal.ClientFor("scientist@demo.local");
        // The model's training run is a portal job on credit-risk version 1, so it can be run again.
        var job = await (await scientist.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "drift-test",
            command = "mkdir -p outputs; echo trained > outputs/model.txt",
            inputs = new { train = "dataset:credit-risk:1" },
            @params = new { depth = "3" },
        })).JsonAsync(HttpStatusCode.Accepted);
        var runId = job.GetProperty("runId").GetString()!;
        await JobsApiTests.WaitUntilAsync(async () => (await (await scientist.GetAsync($"/api/v1/jobs/{job.GetProperty("jobId").GetString()}")).JsonAsync()).GetProperty("status").GetString() == "Completed");
        var version = await ServedModels.ApprovedSklearnAsync(portal.Services, $"drift-{Guid.NewGuid():N}"[..12], "dataset:credit-risk:1", runId);
        await portal.PutAsync("drifting", ServingPortal.Deployment("blue", (version.ModelName, version.Version), 100));
        await portal.WaitForStateAsync("drifting", "blue", "Healthy");
        var rule = await (await portal.Ops.PostAsJsonAsync("/api/v1/alert-rules", new
        {
            name = "Income drift", endpoint = "drifting", metric = "Drift", threshold = 0.1, windowMinutes = 15, severity = "Warning",
        })).JsonAsync(HttpStatusCode.Created);

        // Applicants earning three times what the training data's did.
        var rows = Enumerable.Range(0, 300).Select(i => new { annual_income = 150_000.0 + (i * 100), age = 30 + (i % 40), employment = i % 3 == 0 ? "self-employed" : "salaried" }).ToArray();
        for (var i = 0; i < rows.Length; i += 50)
        {
            (await portal.ScoreAsync("drifting", new { inputs = rows[i..(i + 50)] })).EnsureSuccessStatusCode();
        }

        JsonElement alert = default;
        await ServingPortal.WaitUntilAsync(async () =>
        {
            var open = await (await portal.Ops.GetAsync("/api/v1/alerts?endpoint=drifting")).JsonAsync();
            alert = open.EnumerateArray().FirstOrDefault(a => a.GetProperty("ruleId").GetString() == rule.GetProperty("id").GetString());
            return alert.ValueKind == JsonValueKind.Object;
        }, "the drift alert");
        Assert.Contains("data drift", alert.GetProperty("title").GetString(), StringComparison.Ordinal);
        var drift = await (await portal.Ops.GetAsync("/api/v1/endpoints/drifting/drift")).JsonAsync();
        var income = drift.GetProperty("deployments")[0].GetProperty("drift").GetProperty("features").EnumerateArray().Single(f => f.GetProperty("feature").GetString() == "annual_income");
        Assert.True(income.GetProperty("drifted").GetBoolean(), income.ToString());
        Assert.Equal("normalized Wasserstein", income.GetProperty("method").GetString());

        var alertId = alert.GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.Ops.PostAsync($"/api/v1/alerts/{alertId}/retrain", null)).StatusCode);
        var retrain = await (await scientist.PostAsync($"/api/v1/alerts/{alertId}/retrain", null)).JsonAsync(HttpStatusCode.Accepted);
        var newRun = await (await scientist.GetAsync($"/api/v1/runs/{retrain.GetProperty("runId").GetString()}")).JsonAsync();
        Assert.Equal(alertId, newRun.GetProperty("tags").GetProperty("portal.retrainedFromAlert").GetString());
        Assert.Equal("3", newRun.GetProperty("params").GetProperty("depth").GetString());
        Assert.Contains("dataset:credit-risk:2", newRun.GetProperty("inputs").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal(retrain.GetProperty("runId").GetString(), (await (await portal.Ops.GetAsync($"/api/v1/alerts/{alertId}")).JsonAsync()).GetProperty("retrainRunId").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await scientist.PostAsync($"/api/v1/alerts/{alertId}/retrain", null)).StatusCode);

        // The training data's own rows again: the condition clears and the alert resolves itself.
        var csv = (await (await scientist.GetAsync("/api/v1/datasets/credit-risk/versions/1/content")).Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var header = csv[0].Split(',').ToList();
        var usual = csv.Skip(1).Take(300).Select(line => line.Split(',')).Where(f => f[header.IndexOf("age")].Length > 0 && f[header.IndexOf("annual_income")].Length > 0)
            .Select(f => new
            {
                annual_income = double.Parse(f[header.IndexOf("annual_income")], System.Globalization.CultureInfo.InvariantCulture),
                age = int.Parse(f[header.IndexOf("age")], System.Globalization.CultureInfo.InvariantCulture),
                employment = f[header.IndexOf("employment")],
            }).ToArray();
        portal.Time.Advance(TimeSpan.FromMinutes(16));
        for (var i = 0; i < usual.Length; i += 50)
        {
            (await portal.ScoreAsync("drifting", new { inputs = usual[i..Math.Min(i + 50, usual.Length)] })).EnsureSuccessStatusCode();
        }

        await ServingPortal.WaitUntilAsync(async () =>
            (await (await portal.Ops.GetAsync($"/api/v1/alerts/{alertId}")).JsonAsync()).GetProperty("state").GetString() == "Resolved", "the alert to resolve itself");
    }

    [Fact]
    public async Task SampledRequests_MaskTheTrainingDatasSensitiveColumns_AndFinishedMinutesAreKept()
    {
        await portal.WaitForDemoDataAsync();
        // The model was trained on credit-risk version 1, whose e-mail column holds personal data.
        var version = await ServedModels.ApprovedSklearnAsync(portal.Services, $"pii-{Guid.NewGuid():N}"[..12], "dataset:credit-risk:1");
        await portal.PutAsync("masked", ServingPortal.Deployment("blue", (version.ModelName, version.Version), 100));
        await portal.WaitForStateAsync("masked", "blue", "Healthy");

        var response = await portal.ScoreAsync("masked", new { inputs = new[] { new { annual_income = 50_000.0, age = 30, employment = "salaried", email = "ada@example.org" } } });
        response.EnsureSuccessStatusCode();
        portal.Time.Advance(TimeSpan.FromMinutes(2));

        JsonElement samples = default;
        await ServingPortal.WaitUntilAsync(async () =>
        {
            samples = await (await portal.Ops.GetAsync("/api/v1/endpoints/masked/samples")).JsonAsync();
            return samples.GetArrayLength() > 0;
        }, "the sampled request to be stored");
        var inputs = samples[0].GetProperty("inputs")[0];
        Assert.Equal("•••", inputs.GetProperty("email").GetString());
        Assert.Equal(50_000.0, inputs.GetProperty("annual_income").GetDouble());
        Assert.DoesNotContain("ada@example.org", samples.ToString(), StringComparison.Ordinal);

        await ServingPortal.WaitUntilAsync(async () =>
            (await (await portal.Ops.GetAsync("/api/v1/endpoints/masked/history?hours=1")).JsonAsync()).EnumerateArray()
                .Any(m => m.GetProperty("deployment").GetString() == "blue" && m.GetProperty("requests").GetInt64() == 1), "the finished minute to be kept");
    }

    [Fact]
    public async Task Metrics_AreValidPrometheusText_WithTheDeploymentsSeries_AndNeedOpsOrAdmin()
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        await portal.PutAsync("metered", ServingPortal.Deployment("blue", version, 100));
        await portal.WaitForStateAsync("metered", "blue", "Healthy");
        for (var i = 0; i < 5; i++)
        {
            await portal.ScoreAsync("metered", new { inputs = new[] { new { x = i } } });
        }

        await portal.ScoreAsync("metered", new { inputs = new[] { new { y = 1 } } });

        var text = await (await portal.Ops.GetAsync("/metrics")).Content.ReadAsStringAsync();

        Assert.Contains("portal_scoring_requests_total{endpoint=\"metered\",deployment=\"blue\",status=\"200\"} 5", text, StringComparison.Ordinal);
        Assert.Contains("portal_scoring_requests_total{endpoint=\"metered\",deployment=\"blue\",status=\"400\"} 1", text, StringComparison.Ordinal);
        Assert.Contains("portal_scoring_model_duration_seconds_bucket{endpoint=\"metered\",deployment=\"blue\"", text, StringComparison.Ordinal);
        Assert.Contains("portal_scoring_gateway_duration_seconds_count{endpoint=\"metered\",deployment=\"blue\"} 5", text, StringComparison.Ordinal);
        Assert.Contains("portal_jobs{state=\"Completed\"}", text, StringComparison.Ordinal);
        Assert.Contains("http_requests_received_total", text, StringComparison.Ordinal);
        Assert.Equal("", await PromtoolAsync(text));
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.ClientFor("scientist@demo.local").GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.AnonymousClient().GetAsync("/metrics")).StatusCode);
    }

    /// <summary>What <c>promtool check metrics</c> (Debian's prometheus) finds wrong; empty when nothing.</summary>
    private static async Task<string> PromtoolAsync(string exposition)
    {
        using var promtool = Process.Start(new ProcessStartInfo("/usr/bin/promtool", ["check", "metrics"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        })!;
        await promtool.StandardInput.WriteAsync(exposition);
        promtool.StandardInput.Close();
        var output = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        return promtool.ExitCode == 0 ? "" : output;
    }
}
