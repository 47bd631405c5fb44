using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// MLflow's model-registry REST API onto the governed registry: MLflow model folders, bound files behind
/// models:/ URIs, bad input answered MLflow-style with nothing half-written, and no way around approval.
/// </summary>
public class MlflowRegistryApiTests(ApprovalsPortal portal) : IClassFixture<ApprovalsPortal>
{
    private const string Mlmodel = """
        artifact_path: model
        flavors:
          python_function:
            loader_module: mlflow.sklearn
            model_path: model.pkl
          sklearn:
            pickled_model: model.pkl
            serialization_format: cloudpickle
        saved_input_example_info:
          artifact_path: input_example.json
          type: dataframe
        signature:
          inputs: '[{"type": "long", "name": "age", "required": true}, {"type": "long", "name": "credit_score",
            "required": true}]'
        """;

    private HttpClient Scientist => portal.Scientist;

    [Fact]
    public async Task ALoggedMlflowFolder_RegistersWithItsMlmodelSignature_AndModelsUrisServeTheBoundFiles()
    {
        var (experiment, run) = await NewRunAsync();
        await UploadAsync(experiment, run, "model/MLmodel", Mlmodel);
        await UploadAsync(experiment, run, "model/model.pkl", await ModelPickleAsync());
        await UploadAsync(experiment, run, "model/input_example.json", """{"columns": ["age", "credit_score"], "data": [[41, 700]]}""");
        var name = $"mlf-{Guid.NewGuid():N}"[..14];

        var created = await Call(HttpMethod.Post, "model-versions/create", new { name, source = $"mlflow-artifacts:/{experiment}/{run}/artifacts/model", run_id = run });
        var version = created.GetProperty("model_version");
        Assert.Equal("1", version.GetProperty("version").GetString());
        Assert.Equal("PENDING_REGISTRATION", version.GetProperty("status").GetString());
        Assert.Equal($"mlflow-artifacts:/{experiment}/{run}/artifacts/model", version.GetProperty("source").GetString());
        var portalVersion = await portal.SettledAsync(name, 1);
        Assert.Equal(["age", "credit_score"], portalVersion.GetProperty("signature").EnumerateArray().Select(c => c.GetProperty("name").GetString()));
        Assert.Equal("model", portalVersion.GetProperty("artifactPath").GetString());
        var settled = (await Call(HttpMethod.Get, $"model-versions/get?name={name}&version=1")).GetProperty("model_version");
        Assert.Equal(portalVersion.GetProperty("state").GetString() == "Failed" ? "FAILED_REGISTRATION" : "READY", settled.GetProperty("status").GetString());

        // models:/name/1 reads the files as bound, even after the run's copy is replaced.
        var uri = (await Call(HttpMethod.Get, $"model-versions/get-download-uri?name={name}&version=1")).GetProperty("artifact_uri").GetString();
        Assert.Equal($"mlflow-artifacts:/registry/{name}/1", uri);
        var listed = await (await Scientist.GetAsync($"/api/2.0/mlflow-artifacts/artifacts?path=registry/{name}/1")).JsonAsync();
        Assert.Equal(["MLmodel", "input_example.json", "model.pkl"], listed.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        await UploadAsync(experiment, run, "model/MLmodel", Mlmodel.Replace("age", "age2", StringComparison.Ordinal));
        Assert.Equal(Mlmodel, await Scientist.GetStringAsync($"/api/2.0/mlflow-artifacts/artifacts/registry/{name}/1/MLmodel"));
        Assert.Contains("age2", await Scientist.GetStringAsync($"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/model/MLmodel"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task SourcesThatAreNotAnMlflowModel_AreRefusedMlflowStyle_AndNothingIsHalfWritten()
    {
        var (experiment, run) = await NewRunAsync();
        await UploadAsync(experiment, run, "notes/readme.txt", "no model here");
        await UploadAsync(experiment, run, "tf/MLmodel", "flavors:\n  tensorflow:\n    saved_model_dir: tfmodel\n");
        await UploadAsync(experiment, run, "tf/tfmodel/saved_model.pb", "pb");
        var name = $"bad-{Guid.NewGuid():N}"[..14];

        foreach (var (source, expected) in new[]
        {
            ($"runs:/{run}/model", "has no artifact or folder 'model'"),
            ($"runs:/{run}/notes", "has no MLmodel file"),
            ($"runs:/{run}/tf", "'tensorflow'"),
            ("s3://bucket/model", "is not a run's artifact"),
        })
        {
            var response = await Send(HttpMethod.Post, "model-versions/create", new { name, source });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var error = await response.Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal("INVALID_PARAMETER_VALUE", error.GetProperty("error_code").GetString());
            Assert.Contains(expected, error.GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        var missing = await Send(HttpMethod.Get, $"registered-models/get?name={name}");
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (await missing.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        var versions = await Call(HttpMethod.Get, $"model-versions/search?filter={Uri.EscapeDataString($"run_id = '{run}'")}");
        Assert.False(versions.TryGetProperty("model_versions", out var found) && found.GetArrayLength() > 0);
    }

    [Fact]
    public async Task UnknownVersionsAndBadAliases_AreRefused_AndTheAliasesStayAsTheyWere()
    {
        var (name, _) = await portal.ValidatedVersionAsync();

        var unknown = await Send(HttpMethod.Get, $"model-versions/get?name={name}&version=99");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("version=99", (await unknown.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, $"model-versions/get?name={name}&version=abc")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, "registered-models/alias", new { name, alias = "candidate", version = "99" })).StatusCode);

        foreach (var alias in new[] { "my champion", new string('a', 300), "latest" })
        {
            var response = await Send(HttpMethod.Post, "registered-models/alias", new { name, alias, version = "1" });
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.StartsWith("alias:", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        // An unprotected alias is free; the protected one waits for approval, and the refusal is audited.
        await Call(HttpMethod.Post, "registered-models/alias", new { name, alias = "candidate", version = "1" });
        var refused = await Send(HttpMethod.Post, "registered-models/alias", new { name, alias = "champion", version = "1" });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("INVALID_STATE", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        var stage = await Send(HttpMethod.Post, "model-versions/transition-stage", new { name, version = "1", stage = "Production", archive_existing_versions = false });
        Assert.Equal(HttpStatusCode.Conflict, stage.StatusCode);

        var model = (await Call(HttpMethod.Get, $"registered-models/get?name={name}")).GetProperty("registered_model");
        Assert.Equal(["candidate"], model.GetProperty("aliases").EnumerateArray().Select(a => a.GetProperty("alias").GetString()));
        Assert.Equal("None", model.GetProperty("latest_versions")[0].GetProperty("current_stage").GetString());
        var audit = await (await portal.Admin.GetAsync($"/api/v1/audit?entity=model:{name}:1")).JsonAsync();
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "security.alias-refused"));
    }

    [Fact]
    public async Task AModelWithAnOpenApprovalRequest_IsNotDeleted_NorIsItsVersion()
    {
        var (name, _) = await portal.ValidatedVersionAsync();
        (await Scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions/1/approval-requests", new { comment = "Please." })).EnsureSuccessStatusCode();

        foreach (var (route, body) in new (string, object)[] { ("registered-models/delete", new { name }), ("model-versions/delete", new { name, version = "1" }) })
        {
            var response = await Send(HttpMethod.Delete, route, body);
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Contains("approval request is open", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("message").GetString(), StringComparison.Ordinal);
        }

        Assert.Equal("PendingApproval", (await portal.SettledAsync(name, 1)).GetProperty("state").GetString());
        Assert.Equal("READY", (await Call(HttpMethod.Get, $"model-versions/get?name={name}&version=1")).GetProperty("model_version").GetProperty("status").GetString());
    }

    [Fact]
    public async Task RegisteredModelTagsDescriptionsAndSearch_WorkAsInMlflow()
    {
        var name = $"tag-{Guid.NewGuid():N}"[..14];
        await Call(HttpMethod.Post, "registered-models/create", new { name, description = "first", tags = new[] { new { key = "team", value = "risk" } } });
        Assert.Equal("RESOURCE_ALREADY_EXISTS", (await (await Send(HttpMethod.Post, "registered-models/create", new { name })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        await Call(HttpMethod.Patch, "registered-models/update", new { name, description = "second" });
        await Call(HttpMethod.Post, "registered-models/set-tag", new { name, key = "tier", value = "gold" });

        var found = await Call(HttpMethod.Get, $"registered-models/search?filter={Uri.EscapeDataString($"name = '{name}' AND tags.tier = 'gold'")}");
        var model = Assert.Single(found.GetProperty("registered_models").EnumerateArray());
        Assert.Equal("second", model.GetProperty("description").GetString());
        Assert.Equal(["risk", "gold"], model.GetProperty("tags").EnumerateArray().Select(t => t.GetProperty("value").GetString()));
        await Call(HttpMethod.Delete, "registered-models/delete-tag", new { name, key = "tier" });
        Assert.Empty((await Call(HttpMethod.Get, $"registered-models/search?filter={Uri.EscapeDataString($"tags.tier = 'gold' AND name = '{name}'")}"))
            .GetProperty("registered_models").EnumerateArray());
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, "registered-models/search?max_results=5000")).StatusCode);
        var badName = await Send(HttpMethod.Post, "registered-models/create", new { name = "no spaces allowed" });
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", (await badName.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        Assert.Equal(HttpStatusCode.Conflict, (await Send(HttpMethod.Post, "registered-models/rename", new { name, new_name = "other" })).StatusCode);

        // Empty registered models may go; the trail keeps that they did.
        await Call(HttpMethod.Delete, "registered-models/delete", new { name });
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"registered-models/get?name={name}")).StatusCode);
    }

    private async Task<(string Experiment, string Run)> NewRunAsync()
    {
        var experiment = (await Call(HttpMethod.Post, "experiments/create", new { name = $"mlflow-registry-{Guid.NewGuid():N}" })).GetProperty("experiment_id").GetString()!;
        var run = (await Call(HttpMethod.Post, "runs/create", new { experiment_id = experiment })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
        return (experiment, run);
    }

    private async Task<byte[]> ModelPickleAsync()
    {
        var trained = await portal.TrainedRunAsync();
        var run = (await Call(HttpMethod.Get, $"runs/get?run_id={trained}")).GetProperty("run").GetProperty("info");
        return await Scientist.GetByteArrayAsync($"/api/2.0/mlflow-artifacts/artifacts/{run.GetProperty("experiment_id").GetString()}/{trained}/artifacts/outputs/model.pkl");
    }

    private Task UploadAsync(string experiment, string run, string path, string text) => UploadAsync(experiment, run, path, Encoding.UTF8.GetBytes(text));

    private async Task UploadAsync(string experiment, string run, string path, byte[] bytes) =>
        (await Scientist.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{experiment}/{run}/artifacts/{path}", new ByteArrayContent(bytes))).EnsureSuccessStatusCode();

    private Task<HttpResponseMessage> Send(HttpMethod method, string route, object? body = null) =>
        Scientist.SendAsync(new HttpRequestMessage(method, $"/api/2.0/mlflow/{route}") { Content = body is null ? null : JsonContent.Create(body) });

    private async Task<JsonElement> Call(HttpMethod method, string route, object? body = null) => await (await Send(method, route, body)).JsonAsync();
}
