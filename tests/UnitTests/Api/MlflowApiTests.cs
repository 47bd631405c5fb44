using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>The MLflow REST contract: shapes, limits and error codes as MLflow's reference gives them.</summary>
public class MlflowApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _scientist;
    private readonly HttpClient _viewer;

    public MlflowApiTests(PortalFactory portal)
    {
        _portal = portal;
        _scientist = portal.ClientFor("scientist@demo.local");
        _viewer = portal.ClientFor("viewer@demo.local");
    }

    [Fact]
    public async Task AScriptCreatesAnExperimentAndRun_LogsABatch_AndReadsItBack()
    {
        var (experimentId, runId) = await NewRunAsync();

        await Post("runs/log-batch", new
        {
            run_id = runId,
            metrics = new object[]
            {
                new { key = "loss", value = 0.9, timestamp = 1000, step = 0 },
                new { key = "loss", value = 0.5, timestamp = 2000, step = 1 },
                new { key = "auc", value = "NaN", timestamp = 2000, step = 1 },
                new { key = "val/acc", value = 0.81, timestamp = "2000", step = "1" },
            },
            @params = new[] { new { key = "depth", value = "5" }, new { key = "lr", value = "0.1" } },
            tags = new[] { new { key = "team", value = "credit" } },
        });

        var run = (await Get($"runs/get?run_id={runId}")).GetProperty("run");
        Assert.Equal(runId, run.GetProperty("info").GetProperty("run_id").GetString());
        Assert.Equal(experimentId, run.GetProperty("info").GetProperty("experiment_id").GetString());
        Assert.Equal("RUNNING", run.GetProperty("info").GetProperty("status").GetString());
        var metrics = run.GetProperty("data").GetProperty("metrics").EnumerateArray().ToDictionary(m => m.GetProperty("key").GetString()!);
        Assert.Equal(0.5, metrics["loss"].GetProperty("value").GetDouble());
        Assert.Equal(1, metrics["loss"].GetProperty("step").GetInt64());
        Assert.Equal("NaN", metrics["auc"].GetProperty("value").GetString());
        Assert.Equal("5", Find(run.GetProperty("data").GetProperty("params"), "depth"));
        Assert.Equal("credit", Find(run.GetProperty("data").GetProperty("tags"), "team"));

        var history = await Get($"metrics/get-history?run_id={runId}&metric_key=loss");
        Assert.Equal([0.9, 0.5], history.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("value").GetDouble()));

        var ended = await Post("runs/update", new { run_id = runId, status = "FINISHED", end_time = 5000 });
        Assert.Equal("FINISHED", ended.GetProperty("run_info").GetProperty("status").GetString());
        Assert.Equal(5000, ended.GetProperty("run_info").GetProperty("end_time").GetInt64());
    }

    [Fact]
    public async Task ARetriedBatch_DoesNotDuplicatePoints()
    {
        var (_, runId) = await NewRunAsync();
        var batch = new
        {
            run_id = runId,
            metrics = Enumerable.Range(0, 50).Select(i => new { key = "loss", value = 1.0 / (i + 1), timestamp = 1000 + i, step = i }).ToArray(),
        };

        await Post("runs/log-batch", batch);
        await Post("runs/log-batch", batch);

        var history = await Get($"metrics/get-history?run_id={runId}&metric_key=loss");
        Assert.Equal(50, history.GetProperty("metrics").GetArrayLength());
    }

    [Fact]
    public async Task Params_AreWriteOnce()
    {
        var (_, runId) = await NewRunAsync();
        await Post("runs/log-parameter", new { run_id = runId, key = "depth", value = "5" });
        await Post("runs/log-parameter", new { run_id = runId, key = "depth", value = "5" });

        var error = await PostError("runs/log-parameter", new { run_id = runId, key = "depth", value = "6" }, HttpStatusCode.BadRequest);

        Assert.Equal("INVALID_PARAMETER_VALUE", error.Code);
        Assert.Contains("Changing param values is not allowed", error.Message);
    }

    [Theory]
    [InlineData("../x")]
    [InlineData("a//b")]
    [InlineData("/x")]
    [InlineData("bad key!")]
    public async Task BadMetricKeys_AreRefused_AndNothingIsLogged(string key)
    {
        var (_, runId) = await NewRunAsync();

        var error = await PostError("runs/log-batch", new
        {
            run_id = runId,
            metrics = new object[] { new { key = "good", value = 1, timestamp = 1, step = 0 }, new { key, value = 1, timestamp = 1, step = 0 } },
        }, HttpStatusCode.BadRequest);

        Assert.Equal("INVALID_PARAMETER_VALUE", error.Code);
        var run = (await Get($"runs/get?run_id={runId}")).GetProperty("run");
        Assert.Equal(0, run.GetProperty("data").GetProperty("metrics").GetArrayLength());
    }

    [Fact]
    public async Task BatchLimits_AndValueLengths_AreMlflows()
    {
        var (_, runId) = await NewRunAsync();
        var tooMany = Enumerable.Range(0, 1001).Select(i => new { key = "m", value = 1.0, timestamp = 1, step = i }).ToArray();
        Assert.Contains("at most 1000 metrics", (await PostError("runs/log-batch", new { run_id = runId, metrics = tooMany }, HttpStatusCode.BadRequest)).Message);

        var params101 = Enumerable.Range(0, 101).Select(i => new { key = $"p{i}", value = "1" }).ToArray();
        Assert.Contains("at most 100 params", (await PostError("runs/log-batch", new { run_id = runId, @params = params101 }, HttpStatusCode.BadRequest)).Message);

        var longKey = new string('k', 251);
        Assert.Equal("INVALID_PARAMETER_VALUE", (await PostError("runs/log-parameter", new { run_id = runId, key = longKey, value = "1" }, HttpStatusCode.BadRequest)).Code);

        var longValue = new string('v', 6001);
        Assert.Contains("6000", (await PostError("runs/log-parameter", new { run_id = runId, key = "p", value = longValue }, HttpStatusCode.BadRequest)).Message);

        var text = await PostError("runs/log-metric", new { run_id = runId, key = "m", value = "abc", timestamp = 1 }, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_PARAMETER_VALUE", text.Code);
        Assert.Contains("'value'", text.Message);

        var big = new StringContent($"{{\"run_id\":\"{runId}\",\"tags\":[{{\"key\":\"x\",\"value\":\"{new string('a', 1_100_000)}\"}}]}}", Encoding.UTF8, "application/json");
        var response = await _scientist.PostAsync("/api/2.0/mlflow/runs/log-batch", big);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());

        var run = (await Get($"runs/get?run_id={runId}")).GetProperty("run");
        Assert.Equal(0, run.GetProperty("data").GetProperty("params").GetArrayLength());
    }

    [Fact]
    public async Task NanAndInfinity_AreStoredAndReturned()
    {
        var (_, runId) = await NewRunAsync();
        await Post("runs/log-batch", new
        {
            run_id = runId,
            metrics = new object[]
            {
                new { key = "m", value = "NaN", timestamp = 1, step = 0 },
                new { key = "m", value = "Infinity", timestamp = 1, step = 1 },
                new { key = "m", value = "-Infinity", timestamp = 1, step = 2 },
                new { key = "m", value = "NaN", timestamp = 1, step = 0 },
            },
        });

        var history = await Get($"metrics/get-history?run_id={runId}&metric_key=m");
        Assert.Equal(["NaN", "Infinity", "-Infinity"], history.GetProperty("metrics").EnumerateArray().Select(m => m.GetProperty("value").GetString()));
    }

    [Fact]
    public async Task UnknownThings_AreResourceDoesNotExist_AndDuplicatesAlreadyExist()
    {
        var missingRun = await _scientist.GetAsync("/api/2.0/mlflow/runs/get?run_id=0123456789abcdef0123456789abcdef");
        Assert.Equal(HttpStatusCode.NotFound, missingRun.StatusCode);
        Assert.Equal("RESOURCE_DOES_NOT_EXIST", (await missingRun.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());

        var missingExperiment = await _scientist.GetAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=no-such-experiment");
        Assert.Equal(HttpStatusCode.NotFound, missingExperiment.StatusCode);

        var name = $"dup-{Guid.NewGuid():N}";
        await Post("experiments/create", new { name });
        var duplicate = await PostError("experiments/create", new { name }, HttpStatusCode.BadRequest);
        Assert.Equal("RESOURCE_ALREADY_EXISTS", duplicate.Code);
    }

    [Fact]
    public async Task AFinishedRun_RefusesNewMetrics_ButTakesTags()
    {
        var (_, runId) = await NewRunAsync();
        await Post("runs/update", new { run_id = runId, status = "FAILED" });

        var error = await PostError("runs/log-metric", new { run_id = runId, key = "m", value = 1, timestamp = 1 }, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_STATE", error.Code);
        await Post("runs/set-tag", new { run_id = runId, key = "note", value = "diverged" });
    }

    [Theory]
    [InlineData("viewer@demo.local")]
    [InlineData("ops@demo.local")]
    public async Task ViewersAndOps_CanRead_ButNotWrite(string user)
    {
        var (experimentId, runId) = await NewRunAsync();
        var reader = _portal.ClientFor(user);

        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/2.0/mlflow/runs/get?run_id={runId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/api/v1/experiments/{experimentId}/runs.csv")).StatusCode);
        var refused = await reader.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experimentId });
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal("PERMISSION_DENIED", (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
    }

    [Fact]
    public async Task SearchRuns_FiltersAndOrdersByMetricsParamsAndAttributes()
    {
        var experimentId = (await Post("experiments/create", new { name = $"search-{Guid.NewGuid():N}" })).GetProperty("experiment_id").GetString()!;
        var ids = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var runId = (await Post("runs/create", new { experiment_id = experimentId, run_name = $"r{i}", start_time = 1000 + i })).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!;
            ids.Add(runId);
            var metrics = i == 5 ? Array.Empty<object>() : [new { key = "auc", value = 0.5 + (i * 0.1), timestamp = 1, step = 0 }];
            await Post("runs/log-batch", new { run_id = runId, metrics, @params = new[] { new { key = "depth", value = (i % 2 == 0 ? "4" : "8") } } });
        }

        await Post("runs/update", new { run_id = ids[4], status = "FINISHED" });

        async Task<List<string>> Names(string? filter, string? orderBy, int max = 100, string? token = null)
        {
            var body = await Post("runs/search", new { experiment_ids = new[] { experimentId }, filter, order_by = orderBy is null ? null : new[] { orderBy }, max_results = max, page_token = token });
            return body.TryGetProperty("runs", out var runs) ? [.. runs.EnumerateArray().Select(r => r.GetProperty("info").GetProperty("run_name").GetString()!)] : [];
        }

        Assert.Equal(["r4", "r3", "r2", "r1", "r0", "r5"], await Names(null, "metrics.auc DESC"));
        Assert.Equal(["r0", "r1", "r2", "r3", "r4", "r5"], await Names(null, "metrics.auc ASC"));
        Assert.Equal(["r4", "r3"], await Names("metrics.auc > 0.75", "metrics.auc DESC"));
        Assert.Equal(["r4", "r2", "r0"], await Names("params.depth = '4'", "metrics.auc DESC"));
        Assert.Equal(["r2", "r0"], await Names("params.depth = '4' and attributes.status = 'RUNNING'", "metrics.auc DESC"));
        Assert.Equal(["r5", "r4", "r3", "r2", "r1", "r0"], await Names(null, null));
        Assert.Equal(["r1"], await Names("attributes.run_name = 'r1'", null));

        var first = await Post("runs/search", new { experiment_ids = new[] { experimentId }, order_by = new[] { "metrics.auc DESC" }, max_results = 4 });
        var token = first.GetProperty("next_page_token").GetString();
        Assert.Equal(["r0", "r5"], await Names(null, "metrics.auc DESC", 4, token));

        var bad = await PostError("runs/search", new { experiment_ids = new[] { experimentId }, filter = "metrics.auc >> 'x'" }, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_PARAMETER_VALUE", bad.Code);
        Assert.Contains("Invalid filter", bad.Message);
    }

    [Theory]
    [InlineData("..%2Fx")]
    [InlineData("%2e%2e%2fetc%2fpasswd")]
    [InlineData("%252e%252e%252fetc")]
    [InlineData("a//b")]
    [InlineData("%2Fetc%2Fpasswd")]
    public async Task ArtifactPathsThatEscapeTheRun_AreRefused(string path)
    {
        var (experimentId, runId) = await NewRunAsync();

        var response = await _scientist.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/{runId}/artifacts/{path}", new ByteArrayContent([1, 2, 3]));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("INVALID_PARAMETER_VALUE", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("error_code").GetString());
        var list = await Get($"../mlflow-artifacts/artifacts?path={experimentId}/{runId}/artifacts");
        Assert.Equal(0, list.GetProperty("files").GetArrayLength());
    }

    [Fact]
    public async Task AnArtifactUploadedThroughTheProxy_IsListedAndReadBack()
    {
        var (experimentId, runId) = await NewRunAsync();

        (await _scientist.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/{runId}/artifacts/outputs/model.pkl", new ByteArrayContent([7, 8, 9]))).EnsureSuccessStatusCode();

        var list = await Get($"../mlflow-artifacts/artifacts?path={experimentId}/{runId}/artifacts");
        Assert.Equal("outputs", list.GetProperty("files")[0].GetProperty("path").GetString());
        Assert.True(list.GetProperty("files")[0].GetProperty("is_dir").GetBoolean());
        Assert.Equal([7, 8, 9], await _scientist.GetByteArrayAsync($"/api/v1/runs/{runId}/artifacts/outputs/model.pkl"));
    }

    [Fact]
    public async Task TheRunsCsv_HasTheChosenColumns_AndDefusesFormulas()
    {
        var (experimentId, runId) = await NewRunAsync();
        await Post("runs/log-batch", new
        {
            run_id = runId,
            metrics = new[] { new { key = "auc", value = 0.91, timestamp = 1, step = 0 } },
            @params = new[] { new { key = "note", value = "=HYPERLINK(\"http://evil\")" } },
        });

        var csv = await _scientist.GetStringAsync($"/api/v1/experiments/{experimentId}/runs.csv?columns=metrics.auc,params.note&orderBy=metrics.auc%20DESC");

        var lines = csv.TrimStart('\uFEFF').Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("run_id,run_name,status,user,start_time,end_time,metrics.auc,params.note", lines[0].TrimEnd('\r'));
        Assert.Contains(runId, lines[1]);
        Assert.Contains("0.91", lines[1]);
        Assert.Contains("'=HYPERLINK", lines[1]);
    }

    [Fact]
    public async Task TheGeneratedDemoHistory_IsSearchableLikeAnyOtherRuns()
    {
        await _portal.WaitForDemoDataAsync();
        var experiment = (await Get("experiments/get-by-name?experiment_name=credit-risk-history")).GetProperty("experiment");

        var best = await Post("runs/search", new
        {
            experiment_ids = new[] { experiment.GetProperty("experiment_id").GetString() },
            filter = "params.model_type = 'gbm' and attributes.status = 'FINISHED'",
            order_by = new[] { "metrics.val_auc DESC" },
            max_results = 5,
        });

        var runs = best.GetProperty("runs").EnumerateArray().ToList();
        Assert.Equal(5, runs.Count);
        var aucs = runs.Select(r => r.GetProperty("data").GetProperty("metrics").EnumerateArray().Single(m => m.GetProperty("key").GetString() == "val_auc").GetProperty("value").GetDouble()).ToList();
        Assert.Equal(aucs.OrderDescending(), aucs);
        Assert.All(runs, r => Assert.Equal("gbm", Find(r.GetProperty("data").GetProperty("params"), "model_type")));
        Assert.All(runs, r => Assert.True(r.GetProperty("info").GetProperty("start_time").GetInt64() < r.GetProperty("info").GetProperty("end_time").GetInt64()));
        var history = await Get($"metrics/get-history?run_id={runs[0].GetProperty("info").GetProperty("run_id").GetString()}&metric_key=val_auc");
        Assert.Equal(10, history.GetProperty("metrics").GetArrayLength());
    }

    [Fact]
    public async Task GetHistoryWithoutMaxResults_ReturnsEveryPoint_AsMlflowDoes_AndPagesOnlyWhenAsked()
    {
        var (_, runId) = await NewRunAsync();
        for (var start = 0; start < 26_000; start += 1000)
        {
            await Post("runs/log-batch", new { run_id = runId, metrics = Enumerable.Range(start, 1000).Select(i => new { key = "loss", value = 1.0 / (i + 1), timestamp = 1000, step = i }) });
        }

        var all = await Get($"metrics/get-history?run_id={runId}&metric_key=loss");
        Assert.Equal(26_000, all.GetProperty("metrics").GetArrayLength());
        Assert.False(all.TryGetProperty("next_page_token", out _));
        var page = await Get($"metrics/get-history?run_id={runId}&metric_key=loss&max_results=1000");
        Assert.Equal(1000, page.GetProperty("metrics").GetArrayLength());
        Assert.True(page.TryGetProperty("next_page_token", out _));
    }

    [Fact]
    public async Task NestedArtifactFolders_ListAsMlflowsServer_NamesRelativeToTheFolderListed_AndTheRunListRelativeToTheRun()
    {
        var (experimentId, runId) = await NewRunAsync();
        foreach (var path in new[] { "model/MLmodel", "model/metadata/MLmodel", "notes.txt" })
        {
            (await _scientist.PutAsync($"/api/2.0/mlflow-artifacts/artifacts/{experimentId}/{runId}/artifacts/{path}", new StringContent(path))).EnsureSuccessStatusCode();
        }

        var proxied = await (await _scientist.GetAsync($"/api/2.0/mlflow-artifacts/artifacts?path={experimentId}/{runId}/artifacts/model")).JsonAsync();
        Assert.Equal([("MLmodel", false), ("metadata", true)], proxied.GetProperty("files").EnumerateArray().Select(f => (f.GetProperty("path").GetString(), f.GetProperty("is_dir").GetBoolean())));
        Assert.Equal(13, proxied.GetProperty("files")[0].GetProperty("file_size").GetInt64());
        var byRun = await Get($"artifacts/list?run_id={runId}&path=model");
        Assert.Equal(["model/MLmodel", "model/metadata"], byRun.GetProperty("files").EnumerateArray().Select(f => f.GetProperty("path").GetString()));
        Assert.Equal($"mlflow-artifacts:/{experimentId}/{runId}/artifacts", byRun.GetProperty("root_uri").GetString());
    }

    [Fact]
    public async Task AFinishedRunResumes_AsStartRunWithARunIdAsks_ButDoesNotBecomeKilled()
    {
        var (_, runId) = await NewRunAsync();
        await Post("runs/update", new { run_id = runId, status = "FINISHED" });

        var resumed = await Post("runs/update", new { run_id = runId, status = "RUNNING" });
        Assert.Equal("RUNNING", resumed.GetProperty("run_info").GetProperty("status").GetString());
        await Post("runs/update", new { run_id = runId, status = "FINISHED" });
        var (code, _) = await PostError("runs/update", new { run_id = runId, status = "KILLED" }, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_STATE", code);
    }

    [Fact]
    public async Task LogModel_AppendsToTheRunsLoggedModelHistory_AsMlflowKeepsIt()
    {
        var (_, runId) = await NewRunAsync();
        await Post("runs/log-model", new { run_id = runId, model_json = """{"artifact_path": "model", "flavors": {"sklearn": {}}}""" });
        await Post("runs/log-model", new { run_id = runId, model_json = """{"artifact_path": "model2", "flavors": {"python_function": {}}}""" });

        var tags = (await Get($"runs/get?run_id={runId}")).GetProperty("run").GetProperty("data").GetProperty("tags");
        var history = JsonDocument.Parse(Find(tags, "mlflow.log-model.history")!).RootElement;
        Assert.Equal(["model", "model2"], history.EnumerateArray().Select(m => m.GetProperty("artifact_path").GetString()));
        var (code, message) = await PostError("runs/log-model", new { run_id = runId, model_json = "{not json" }, HttpStatusCode.BadRequest);
        Assert.Equal("INVALID_PARAMETER_VALUE", code);
        Assert.Contains("model_json", message, StringComparison.Ordinal);
    }

    private async Task<(string ExperimentId, string RunId)> NewRunAsync()
    {
        var experimentId = (await Post("experiments/create", new { name = $"exp-{Guid.NewGuid():N}" })).GetProperty("experiment_id").GetString()!;
        var run = await Post("runs/create", new { experiment_id = experimentId, run_name = "test", start_time = 1000, tags = new[] { new { key = "source", value = "test" } } });
        return (experimentId, run.GetProperty("run").GetProperty("info").GetProperty("run_id").GetString()!);
    }

    private async Task<JsonElement> Post(string route, object body) =>
        await (await _scientist.PostAsJsonAsync($"/api/2.0/mlflow/{route}", body)).JsonAsync();

    private async Task<JsonElement> Get(string route) => await (await _scientist.GetAsync($"/api/2.0/mlflow/{route}")).JsonAsync();

    private async Task<(string Code, string Message)> PostError(string route, object body, HttpStatusCode status)
    {
        var json = await (await _scientist.PostAsJsonAsync($"/api/2.0/mlflow/{route}", body)).JsonAsync(status);
        return (json.GetProperty("error_code").GetString()!, json.GetProperty("message").GetString()!);
    }

    private static string? Find(JsonElement list, string key) =>
        list.EnumerateArray().Where(e => e.GetProperty("key").GetString() == key).Select(e => e.GetProperty("value").GetString()).FirstOrDefault();
}
