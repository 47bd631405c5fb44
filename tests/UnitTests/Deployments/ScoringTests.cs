using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>Approved models served by real processes, scored through the gateway.</summary>
public class ScoringTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    [Fact]
    public async Task AnApprovedVersion_BecomesHealthy_AndAnswersThroughTheGateway_NamingTheDeploymentAndSplittingTheTime()
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        var put = await portal.PutAsync("doubler", ServingPortal.Deployment("blue", version, 100));
        Assert.Equal("Creating", ServingPortal.DeploymentOf(put, "blue").GetProperty("state").GetString());
        Assert.StartsWith("mlk_", put.GetProperty("keys").GetProperty("primary").GetString(), StringComparison.Ordinal);

        var healthy = await portal.WaitForStateAsync("doubler", "blue", "Healthy");
        var response = await portal.ScoreAsync("doubler", new { inputs = new[] { new { x = 2.0 }, new { x = 21.0 } } });

        var body = await response.JsonAsync();
        Assert.Equal([4.0, 42.0], body.GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()));
        Assert.Equal("blue", response.Headers.GetValues("x-deployment").Single());
        Assert.Matches(@"^gateway;dur=[0-9.]+, model;dur=[0-9.]+$", response.Headers.GetValues("Server-Timing").Single());
        Assert.Equal(1, healthy.GetProperty("instances").GetArrayLength());
        Assert.Equal("Ready", healthy.GetProperty("instances")[0].GetProperty("state").GetString());
        var model = await (await portal.ClientFor("scientist@demo.local").GetAsync($"/api/v1/models/{version.Model}/versions/{version.Version}")).JsonAsync();
        Assert.Equal("Deployed", model.GetProperty("state").GetString());
    }
}

/// <summary>Every refused scoring call: a clear 4xx naming the problem, and nothing about the endpoint changes.</summary>
public class ScoringRefusalTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    public static TheoryData<string, HttpStatusCode, string> BadBodies => new()
    {
        { """{"inputs":[{"y":1}]}""", HttpStatusCode.BadRequest, "inputs[0].x" },
        { """{"inputs":[{"x":1},{"x":"forty"}]}""", HttpStatusCode.BadRequest, "inputs[1].x" },
        { """{"inputs":[{"x":null}]}""", HttpStatusCode.BadRequest, "inputs[0].x" },
        { """{"inputs":[]}""", HttpStatusCode.BadRequest, "inputs" },
        { """{"rows":[{"x":1}]}""", HttpStatusCode.BadRequest, "inputs" },
        { """{"inputs":[{"x":1}""", HttpStatusCode.BadRequest, "body" },
        { """[1,2,3]""", HttpStatusCode.BadRequest, "inputs" },
        { """{"inputs":[7]}""", HttpStatusCode.BadRequest, "inputs[0]" },
    };

    [Theory]
    [MemberData(nameof(BadBodies))]
    public async Task ABadBody_IsRefusedNamingTheRowAndField(string body, HttpStatusCode status, string field)
    {
        await ServingAsync("refusals");

        var response = await portal.ClientFor("scientist@demo.local").PostAsync("/score/refusals", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.JsonAsync(status);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task TooManyRowsOrTenMegabytes_AreRefused_AndTheEndpointIsUnchanged()
    {
        await ServingAsync("refusals");
        var before = (await portal.EndpointAsync("refusals")).GetProperty("etag").GetString();
        var client = portal.ClientFor("scientist@demo.local");

        var rows = await client.PostAsync("/score/refusals", JsonContent.Create(new { inputs = Enumerable.Range(0, 1001).Select(i => new { x = i }) }));
        var huge = await client.PostAsync("/score/refusals", new StringContent("{\"inputs\":[" + string.Join(",", Enumerable.Repeat("{\"x\":1.0}", 1_100_000)) + "]}", Encoding.UTF8, "application/json"));

        Assert.Contains("at most 1,000 per request", (await rows.JsonAsync(HttpStatusCode.BadRequest)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("larger than", (await huge.JsonAsync(HttpStatusCode.RequestEntityTooLarge)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(before, (await portal.EndpointAsync("refusals")).GetProperty("etag").GetString());
    }

    [Fact]
    public async Task AnUnknownEndpoint_Is404_AndOneWithoutTraffic_Is404SayingSo()
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        await portal.PutAsync("no-traffic", ServingPortal.Deployment("blue", version, 0));
        var client = portal.ClientFor("scientist@demo.local");

        var unknown = await client.PostAsync("/score/nowhere", JsonContent.Create(new { inputs = new[] { new { x = 1 } } }));
        var none = await client.PostAsync("/score/no-traffic", JsonContent.Create(new { inputs = new[] { new { x = 1 } } }));

        Assert.Contains("no endpoint 'nowhere'", (await unknown.JsonAsync(HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("sends no traffic", (await none.JsonAsync(HttpStatusCode.NotFound)).GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task WhoMayScore_KeysOfTheEndpointAndPeopleWhoWorkWithModels()
    {
        var keys = await ServingAsync("keyed");
        var other = await ServingAsync("other-keyed");
        var body = new { inputs = new[] { new { x = 1 } } };

        Assert.Equal(HttpStatusCode.OK, (await portal.ScoreAsync("keyed", body, Keyed(keys.GetProperty("primary").GetString()!))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.ScoreAsync("keyed", body, Keyed(keys.GetProperty("secondary").GetString()!))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.ScoreAsync("keyed", body, Keyed(other.GetProperty("primary").GetString()!))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.ScoreAsync("keyed", body, Keyed("mlk_not-a-key"))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.ScoreAsync("keyed", body, portal.AnonymousClient())).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.ScoreAsync("keyed", body, portal.ClientFor("viewer@demo.local"))).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await portal.ScoreAsync("keyed", body, portal.ClientFor("reviewer@demo.local"))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.ScoreAsync("keyed", body, portal.Ops)).StatusCode);

        var regenerated = await (await portal.Ops.PostAsync("/api/v1/endpoints/keyed/keys/primary/regenerate", null)).JsonAsync();
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.ScoreAsync("keyed", body, Keyed(keys.GetProperty("primary").GetString()!))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.ScoreAsync("keyed", body, Keyed(regenerated.GetProperty("value").GetString()!))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await portal.ScoreAsync("keyed", body, Keyed(keys.GetProperty("secondary").GetString()!))).StatusCode);
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync("/api/v1/audit?entity=endpoint:keyed")).JsonAsync();
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "endpoint.key-regenerated");
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "security.endpoint-key-rejected");
    }

    private HttpClient Keyed(string key)
    {
        var client = portal.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", key);
        return client;
    }

    /// <summary>A healthy doubler behind <paramref name="name"/>; its keys.</summary>
    private async Task<JsonElement> ServingAsync(string name)
    {
        var existing = await portal.Ops.GetAsync($"/api/v1/endpoints/{name}");
        if (existing.StatusCode == HttpStatusCode.OK)
        {
            return default;
        }

        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        var put = await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100));
        await portal.WaitForStateAsync(name, "blue", "Healthy");
        return put.GetProperty("keys");
    }
}

/// <summary>Routing: weights, pinning, mirroring, retries, limits, and what the model answers.</summary>
public class RoutingTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    [Fact]
    public async Task A90To10Split_IsServedAsConfigured_AndAPinnedRequestGoesWhereItSays()
    {
        var blue = await portal.ApprovedAsync(ServedModels.Doubler);
        var green = await portal.ApprovedAsync(ServedModels.Doubler);
        await portal.PutAsync("split", ServingPortal.Deployment("blue", blue, 90), ServingPortal.Deployment("green", green, 10), ServingPortal.Deployment("idle", green, 0));
        await portal.WaitForStateAsync("split", "blue", "Healthy");
        await portal.WaitForStateAsync("split", "green", "Healthy");
        await portal.WaitForStateAsync("split", "idle", "Healthy");

        var answered = new List<string>();
        for (var i = 0; i < 400; i++)
        {
            answered.Add((await portal.ScoreAsync("split", new { inputs = new[] { new { x = i } } })).Headers.GetValues("x-deployment").Single());
        }

        var greens = answered.Count(a => a == "green");
        Assert.InRange(greens, 15, 70);
        Assert.Equal(400 - greens, answered.Count(a => a == "blue"));
        var pinned = await portal.ScoreAsync("split", new { inputs = new[] { new { x = 1 } } }, pin: "idle");
        Assert.Equal("idle", pinned.Headers.GetValues("x-deployment").Single());
        var metrics = await (await portal.Ops.GetAsync("/api/v1/endpoints/split/metrics?minutes=5")).JsonAsync();
        var servedByGreen = metrics.GetProperty("deployments").EnumerateArray().Single(d => d.GetProperty("name").GetString() == "green")
            .GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("requests").GetInt64());
        Assert.Equal(greens, servedByGreen);
    }

    [Fact]
    public async Task MirroredRequests_ReachTheMirror_WithoutChangingTheCallersAnswer()
    {
        var live = await portal.ApprovedAsync(ServedModels.Doubler);
        var shadow = await portal.ApprovedAsync(ServedModels.Doubler);
        await portal.PutAsync("mirrored", ServingPortal.Deployment("live", live, 100), ServingPortal.Deployment("shadow", shadow, 0));
        await portal.WaitForStateAsync("mirrored", "live", "Healthy");
        await portal.WaitForStateAsync("mirrored", "shadow", "Healthy");
        (await portal.Ops.PutAsync("/api/v1/endpoints/mirrored/traffic",
            new StringContent("""{"traffic":{"live":100},"mirror":{"deployment":"shadow","percent":50}}""", Encoding.UTF8, "application/json"))).EnsureSuccessStatusCode();

        for (var i = 0; i < 60; i++)
        {
            var response = await portal.ScoreAsync("mirrored", new { inputs = new[] { new { x = i } } });
            Assert.Equal("live", response.Headers.GetValues("x-deployment").Single());
            Assert.Equal(i * 2.0, (await response.JsonAsync()).GetProperty("predictions")[0].GetDouble());
        }

        await ServingPortal.WaitUntilAsync(async () =>
        {
            var shadowFigures = ServingPortal.DeploymentOf(await portal.EndpointAsync("mirrored"), "shadow").GetProperty("metrics");
            return shadowFigures.GetProperty("mirrored").GetInt64() >= 15 && shadowFigures.GetProperty("requests").GetInt64() == 0
                && shadowFigures.GetProperty("mirrorDisagreement").GetDouble() == 0;
        }, "mirrored requests to be answered and compared");
    }

    [Fact]
    public async Task AModelThatFails_Is424WithItsStatus_ASlowOne408_AndABusyOne429()
    {
        var failing = await portal.ApprovedAsync(ServedModels.FailsOnNegatives);
        var slow = await portal.ApprovedAsync(ServedModels.SleepsX);
        await portal.PutAsync("failing", ServingPortal.Deployment("blue", failing, 100));
        await portal.PutAsync("slow", ServingPortal.Deployment("blue", slow, 100, timeoutMs: 1000, maxConcurrent: 1));
        await portal.WaitForStateAsync("failing", "blue", "Healthy");
        await portal.WaitForStateAsync("slow", "blue", "Healthy");

        var failed = await portal.ScoreAsync("failing", new { inputs = new[] { new { x = -1 } } });
        var problem = await failed.JsonAsync((HttpStatusCode)424);
        Assert.Equal(500, problem.GetProperty("modelStatus").GetInt32());
        Assert.Contains("negative x is not supported", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var timedOut = await portal.ScoreAsync("slow", new { inputs = new[] { new { x = 2500 } } });
        Assert.Contains("within its request timeout of 1,000 ms", (await timedOut.JsonAsync(HttpStatusCode.RequestTimeout)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var busy = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => portal.ScoreAsync("slow", new { inputs = new[] { new { x = 700 } } })));
        Assert.Contains(busy, b => b.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.Contains(busy, b => b.StatusCode == HttpStatusCode.OK);
        Assert.True(busy.First(b => b.StatusCode == HttpStatusCode.TooManyRequests).Headers.Contains("Retry-After"));
    }

    [Fact]
    public async Task AnInstanceThatRefusesConnections_IsRetriedOnItsSibling_AndRestarted()
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        await portal.PutAsync("retried", ServingPortal.Deployment("blue", version, 100, instances: 2));
        var healthy = await portal.WaitForStateAsync("retried", "blue", "Healthy");
        var victim = healthy.GetProperty("instances")[0].GetProperty("processId").GetInt32();

        System.Diagnostics.Process.GetProcessById(victim).Kill(entireProcessTree: true);
        var answers = new List<(HttpStatusCode Status, string Body)>();
        for (var i = 0; i < 20; i++)
        {
            var response = await portal.ScoreAsync("retried", new { inputs = new[] { new { x = i } } });
            answers.Add((response.StatusCode, await response.Content.ReadAsStringAsync()));
        }

        Assert.All(answers, a => Assert.True(a.Status == HttpStatusCode.OK, a.Body));
        await ServingPortal.WaitUntilAsync(async () =>
        {
            var instances = (await portal.WaitForStateAsync("retried", "blue", "Healthy")).GetProperty("instances").EnumerateArray().ToList();
            return instances.Count == 2 && instances.Sum(i => i.GetProperty("restarts").GetInt32()) >= 1 && instances.All(i => i.GetProperty("state").GetString() == "Ready");
        }, "the killed instance to be restarted");
    }

    [Fact]
    public async Task AnMlflowSklearnFolder_IsServed()
    {
        // What mlflow.sklearn.log_model writes: MLmodel naming the pickled estimator, fitted on named columns.
        var file = Path.Combine(Path.GetTempPath(), $"mlflow-{Guid.NewGuid():N}.pkl");
        using (var python = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("/usr/bin/python3",
            ["-c", "import pickle,sys,pandas as pd\nfrom sklearn.linear_model import LinearRegression\nx=pd.DataFrame({'x':[1.0,2.0,3.0]})\npickle.dump(LinearRegression().fit(x,[2.0,4.0,6.0]),open(sys.argv[1],'wb'))", file])
            { UseShellExecute = false })!)
        {
            await python.WaitForExitAsync();
        }

        var mlmodel = "artifact_path: model\nflavors:\n  python_function:\n    loader_module: mlflow.sklearn\n    model_path: model.pkl\n  sklearn:\n    pickled_model: model.pkl\n    serialization_format: cloudpickle\n    sklearn_version: 1.2.1\n";
        var version = await ServedModels.ApprovedFolderAsync(portal.Services, $"mlf-{Guid.NewGuid():N}"[..12], new Dictionary<string, byte[]>
        {
            ["MLmodel"] = Encoding.UTF8.GetBytes(mlmodel),
            ["model.pkl"] = await File.ReadAllBytesAsync(file),
        }, ServedModels.XSignature, null);
        await portal.PutAsync("mlflow-sklearn", ServingPortal.Deployment("blue", (version.ModelName, version.Version), 100));
        await portal.WaitForStateAsync("mlflow-sklearn", "blue", "Healthy");

        var response = await portal.ScoreAsync("mlflow-sklearn", new { inputs = new[] { new { x = 10.0 } } });

        Assert.Equal(20.0, (await response.JsonAsync()).GetProperty("predictions")[0].GetDouble(), 6);
    }

    [Fact]
    public async Task ARealScikitLearnModel_ScoresCategoriesAsTrained()
    {
        var version = await ServedModels.ApprovedSklearnAsync(portal.Services, $"gbm-{Guid.NewGuid():N}"[..12]);
        await portal.PutAsync("sklearn", ServingPortal.Deployment("blue", (version.ModelName, version.Version), 100));
        await portal.WaitForStateAsync("sklearn", "blue", "Healthy");

        var response = await portal.ScoreAsync("sklearn", new
        {
            inputs = new object[]
            {
                new { annual_income = 90000.0, age = 40, employment = "salaried" },
                new { annual_income = 20000.0, age = 40, employment = "unemployed" },
            },
        });

        var predictions = (await response.JsonAsync()).GetProperty("predictions").EnumerateArray().Select(p => p.GetDouble()).ToList();
        Assert.InRange(predictions[0], 0, 0.3);
        Assert.InRange(predictions[1], 0.7, 1);
    }
}
