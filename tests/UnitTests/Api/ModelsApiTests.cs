using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class ModelsApiTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _scientist = portal.ClientFor("scientist@demo.local");

    [Fact]
    public async Task AVersionRegisteredFromARunsArtifact_BindsItsDigest_AndTracesBackToTheData()
    {
        await portal.WaitForDemoDataAsync();
        var job = await (await _scientist.PostAsJsonAsync("/api/v1/jobs", new
        {
            experiment = "models-test",
            command = "mkdir -p outputs; printf 'the model' > outputs/model.pkl",
            inputs = new { train = "dataset:credit-risk:1" },
        })).JsonAsync(HttpStatusCode.Accepted);
        var runId = job.GetProperty("runId").GetString()!;
        await JobsApiTests.WaitUntilAsync(async () =>
            (await (await _scientist.GetAsync($"/api/v1/jobs/{job.GetProperty("jobId").GetString()}")).JsonAsync()).GetProperty("status").GetString() == "Completed");
        var name = $"scorer-{Guid.NewGuid():N}"[..15];

        var first = await (await _scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId, artifactPath = "outputs/model.pkl" })).JsonAsync(HttpStatusCode.Created);
        var second = await (await _scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId, artifactPath = "outputs/model.pkl" })).JsonAsync(HttpStatusCode.Created);

        Assert.Equal(1, first.GetProperty("version").GetInt32());
        Assert.Equal("Registered", first.GetProperty("state").GetString());
        Assert.Equal(2, second.GetProperty("version").GetInt32());
        var version = await (await _scientist.GetAsync($"/api/v1/models/{name}/versions/1")).JsonAsync();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("the model"))), version.GetProperty("artifactHash").GetString());
        Assert.Equal(runId, version.GetProperty("sourceRunId").GetString());
        Assert.Equal("scientist@demo.local", version.GetProperty("author").GetString());
        var nodes = version.GetProperty("lineage").GetProperty("nodes").EnumerateArray().Select(n => n.GetString()).ToList();
        Assert.Contains($"run:{runId}", nodes);
        Assert.Contains("dataset:credit-risk:1", nodes);
        var models = await (await _scientist.GetAsync("/api/v1/models")).JsonAsync();
        Assert.Contains(models.EnumerateArray(), m => m.GetProperty("name").GetString() == name && m.GetProperty("versions").GetInt32() == 2);
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=model:{name}")).JsonAsync();
        Assert.Equal(2, audit.EnumerateArray().Count(e => e.GetProperty("action").GetString() == "model.version-registered"));
    }

    [Theory]
    [InlineData("file:///etc/passwd")]
    [InlineData("../outputs/model.pkl")]
    [InlineData("C:\\models\\model.pkl")]
    [InlineData("%2e%2e%2fetc%2fpasswd")]
    [InlineData("%252e%252e%252fetc")]
    [InlineData("/etc/passwd")]
    public async Task ASourceOutsideTheRunsArtifacts_IsRefused_AndRegistersNothing(string artifactPath)
    {
        var experiment = (await (await _scientist.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = $"m-{Guid.NewGuid():N}" })).JsonAsync()).GetProperty("experiment_id").GetString();
        var runId = (await (await _scientist.PostAsJsonAsync("/api/2.0/mlflow/runs/create", new { experiment_id = experiment })).JsonAsync()).GetProperty("run").GetProperty("info").GetProperty("run_id").GetString();
        var name = $"bad-{Guid.NewGuid():N}"[..12];

        var response = await _scientist.PostAsJsonAsync($"/api/v1/models/{name}/versions", new { runId, artifactPath });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("artifactPath", out _), problem.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await _scientist.GetAsync($"/api/v1/models/{name}/versions/1")).StatusCode);
    }

    [Fact]
    public async Task AViewerOrReviewer_CannotRegister()
    {
        foreach (var user in new[] { "viewer@demo.local", "reviewer@demo.local" })
        {
            var response = await portal.ClientFor(user).PostAsJsonAsync("/api/v1/models/anything/versions", new { runId = "0123456789abcdef0123456789abcdef", artifactPath = "outputs/model.pkl" });
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
    }
}
