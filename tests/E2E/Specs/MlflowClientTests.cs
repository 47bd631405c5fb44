using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.E2E.Fixtures;
using Portal.E2E.Pages;

namespace Portal.E2E.Specs;

/// <summary>
/// The real MLflow client (2.12.2, from ../shared/peers) against the portal, as a data scientist's script
/// runs it: log, log a model, load it back, register it, see the portal's checks run, be refused the
/// protected alias until two reviewers approve, then set it and load models:/name@champion.
/// </summary>
[Collection(PortalCollection.Name)]
public class MlflowClientTests(PortalServer portal)
{
    public static string PeerFolder => Path.GetFullPath(Path.Combine(PortalProcess.Metadata("RepositoryRoot"), "..", "shared", "peers", "mlflow-2.12.2"));

    public static string FlowScript => Path.Combine(PortalProcess.Metadata("RepositoryRoot"), "tests", "E2E", "Mlflow", "client_flow.py");

    [Fact]
    public async Task ATrainingScriptUsingTheMlflowClient_LogsRegistersAndIsGovernedByApproval()
    {
        Assert.True(Directory.Exists(Path.Combine(PeerFolder, "mlflow")), $"The MLflow client is missing at {PeerFolder} (see ../shared/peers/README.md).");
        const string model = "mlflow-client-compat";
        using var scientist = portal.ApiClient(DemoUsers.Scientist);
        using var admin = portal.ApiClient(DemoUsers.Admin);

        // Training data: the newest credit-risk version that passed its contract, as the script's user would download it.
        var dataset = await scientist.GetFromJsonAsync<JsonElement>("/api/v1/datasets/credit-risk");
        var passed = dataset.GetProperty("versions").EnumerateArray().Where(v => v.GetProperty("validation").GetProperty("status").GetString() == "passed")
            .Max(v => v.GetProperty("version").GetInt32());
        var data = Path.Combine(Path.GetTempPath(), $"credit-risk-{Guid.NewGuid():N}.csv");
        await File.WriteAllBytesAsync(data, await scientist.GetByteArrayAsync($"/api/v1/datasets/credit-risk/versions/{passed}/content"));

        // The team's model exists before its first version and has its own slice tolerance (set by an Admin).
        (await scientist.PostAsJsonAsync("/api/2.0/mlflow/registered-models/create", new { name = model, description = "Credit team's MLflow model" })).EnsureSuccessStatusCode();
        (await admin.PutAsJsonAsync($"/api/v1/models/{model}/policy", new
        {
            checks = new { requiredMetrics = new Dictionary<string, double> { ["val_auc"] = 0.6 }, holdoutDataset = "credit-risk-holdout", target = "defaulted", metric = "auc", margin = 0.02, sliceColumn = "employment", maxSliceGap = 0.35, minSliceRows = 30 },
        })).EnsureSuccessStatusCode();

        var (exitCode, output) = await RunFlowAsync(portal.BaseUrl, data, model, $"{portal.BaseUrl}/api/v1/datasets/credit-risk/versions/{passed}/content");
        Assert.True(exitCode == 0, output);
        var result = JsonDocument.Parse(output.Split('\n').Last(l => l.StartsWith("RESULT ", StringComparison.Ordinal))[7..]).RootElement;

        // Tracking and artifacts as MLflow serves them: the whole history, the model folder, load_model.
        Assert.Equal(30_000, result.GetProperty("history_points").GetInt32());
        Assert.Equal(5, result.GetProperty("loaded_predictions").GetInt32());
        var files = result.GetProperty("model_files").EnumerateArray().Select(f => f.GetString()).ToList();
        Assert.Contains("model/MLmodel", files);
        Assert.Contains("model/model.pkl", files);
        Assert.Equal(["docs", "model"], result.GetProperty("run_files").EnumerateArray().Select(f => f.GetString()));
        Assert.True(result.GetProperty("search_found_run").GetBoolean());

        // Registration is the portal's: checks ran, then governance refused the protected alias and stage.
        var version = result.GetProperty("version").GetString();
        Assert.Equal(model, result.GetProperty("searched_models")[0].GetString());
        Assert.Equal("client_flow", result.GetProperty("version_tags").GetProperty("validated_by").GetString());
        Assert.Equal(version, result.GetProperty("candidate_alias").GetString());
        var refusal = result.GetProperty("champion_before_approval").GetString()!;
        Assert.StartsWith("INVALID_STATE", refusal);
        Assert.Contains($"/api/v1/models/{model}/versions/{version}/approval-requests", refusal);
        Assert.StartsWith("INVALID_STATE", result.GetProperty("production_before_approval").GetString());
        Assert.Equal(version, result.GetProperty("champion_after_approval").GetString());
        Assert.Equal(5, result.GetProperty("champion_predictions").GetInt32());
        Assert.Equal("Production", result.GetProperty("stage").GetString());

        // The portal's view of the same version: MLflow signature, lineage from log_input, passed checks, audit.
        var portalVersion = await scientist.GetFromJsonAsync<JsonElement>($"/api/v1/models/{model}/versions/{version}");
        Assert.Equal("Approved", portalVersion.GetProperty("state").GetString());
        Assert.Equal(["age", "annual_income", "loan_amount", "term_months", "credit_score"],
            portalVersion.GetProperty("signature").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Contains($"dataset:credit-risk:{passed}", portalVersion.GetProperty("trainingDatasets").EnumerateArray().Select(d => d.GetString()));
        Assert.All(portalVersion.GetProperty("checks").EnumerateArray(), c => Assert.Equal("Passed", c.GetProperty("status").GetString()));
        var audit = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?entity=model:{model}");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "model.alias-changed" && e.GetProperty("after").GetString()!.StartsWith("champion: version", StringComparison.Ordinal));
        var refusals = await admin.GetFromJsonAsync<JsonElement>($"/api/v1/audit?entity=model:{model}:{version}");
        Assert.Contains(refusals.EnumerateArray(), e => e.GetProperty("action").GetString() == "security.alias-refused");

        // The data scientist's guide shows the version the script registered.
        await using var context = await portal.ContextAsAsync(DemoUsers.Scientist);
        var page = await context.NewPageAsync();
        var shell = new ShellPage(page);
        await shell.GotoAsync($"/models/{model}/versions/{version}");
        await Assertions.Expect(shell.Heading).ToContainTextAsync($"{model} version {version}");
        await Assertions.Expect(page.Locator("[data-alias=champion]")).ToHaveTextAsync("@champion");
        await Assertions.Expect(page.Locator("[data-alias=candidate]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-stage=Production]")).ToContainTextAsync("stage: Production");
        await Screenshots.SaveAsync(page, "mlflow-registered-version");
    }

    /// <summary>Runs client_flow.py with the Debian interpreter and the peer's MLflow, as ../shared/peers/README.md says.</summary>
    public static async Task<(int ExitCode, string Output)> RunFlowAsync(string trackingUri, string data, string model, string source)
    {
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetTempPath() };
        foreach (var arg in new[] { FlowScript, "--data", data, "--model", model, "--source", source, "--portal" })
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["PYTHONPATH"] = PeerFolder;
        start.Environment["MLFLOW_TRACKING_URI"] = trackingUri;
        start.Environment["MLFLOW_TRACKING_USERNAME"] = DemoUsers.Scientist;
        start.Environment["MLFLOW_TRACKING_PASSWORD"] = PortalServer.DemoPassword;
        start.Environment["PORTAL_REVIEWERS"] = $"{DemoUsers.Reviewer}:{PortalServer.DemoPassword},{DemoUsers.Reviewer2}:{PortalServer.DemoPassword}";
        start.Environment["GIT_PYTHON_REFRESH"] = "quiet";
        using var process = Process.Start(start)!;
        var output = new StringBuilder();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(8));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
        }

        output.Append(await stdout).Append('\n').Append(await stderr);
        return (process.HasExited ? process.ExitCode : -1, output.ToString());
    }
}
