using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Deployments;

/// <summary>The endpoints API: every bad input of the issue answered with a clear 4xx and no state change; who may do what.</summary>
public class EndpointsApiTests(ServingPortal portal) : IClassFixture<ServingPortal>
{
    public static TheoryData<string, string> BadSplits => new()
    {
        { """{"traffic":{"blue":50,"green":49}}""", "traffic" },
        { """{"traffic":{"blue":50.5,"green":49.5}}""", "traffic.blue" },
        { """{"traffic":{"blue":101}}""", "traffic.blue" },
        { """{"traffic":{"blue":110,"green":-10}}""", "traffic.green" },
        { """{"traffic":{"blue":100},"mirror":{"deployment":"green","percent":60}}""", "mirror.percent" },
        { """{"traffic":{"blue":50,"green":50},"mirror":{"deployment":"green","percent":10}}""", "mirror.deployment" },
        { """{"traffic":{"blue":90,"purple":10}}""", "traffic.purple" },
        { """{"traffic":{"blue":"all"}}""", "traffic.blue" },
    };

    [Theory]
    [MemberData(nameof(BadSplits))]
    public async Task ABadSplit_Is400NamingTheField_AndTheTrafficStaysAsItWas(string body, string field)
    {
        var endpoint = await TwoDeploymentsAsync();
        var before = (await portal.EndpointAsync(endpoint)).GetProperty("traffic").ToString();

        var response = await portal.Ops.PutAsync($"/api/v1/endpoints/{endpoint}/traffic", new StringContent(body, Encoding.UTF8, "application/json"));

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(before, (await portal.EndpointAsync(endpoint)).GetProperty("traffic").ToString());
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("a23456789012345678901234567890123")]
    [InlineData("Credit-Risk")]
    [InlineData("credit%20risk")]
    public async Task ABadEndpointName_Is400_AndCreatesNothing(string name)
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        var response = await portal.Ops.PutAsJsonAsync($"/api/v1/endpoints/{name}", new { deployments = new[] { ServingPortal.Deployment("blue", version, 100) } });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _), problem.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await portal.Ops.GetAsync($"/api/v1/endpoints/{name}")).StatusCode);
        var model = await (await portal.Ops.GetAsync($"/api/v1/models/{version.Model}/versions/{version.Version}")).JsonAsync();
        Assert.Equal("Approved", model.GetProperty("state").GetString());
    }

    [Theory]
    [InlineData(0, 5000, "deployments[0].instanceCount")]
    [InlineData(1000, 5000, "deployments[0].instanceCount")]
    [InlineData(1, 0, "deployments[0].requestTimeoutMs")]
    [InlineData(1, 600_000, "deployments[0].requestTimeoutMs")]
    public async Task OutOfRangeSettings_Are400NamingTheField(int instances, int timeoutMs, string field)
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        var name = Name();

        var response = await portal.Ops.PutAsJsonAsync($"/api/v1/endpoints/{name}", new { deployments = new[] { ServingPortal.Deployment("blue", version, 100, instances, timeoutMs) } });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.Equal(HttpStatusCode.NotFound, (await portal.Ops.GetAsync($"/api/v1/endpoints/{name}")).StatusCode);
    }

    [Fact]
    public async Task AVersionThatIsNotApproved_Is409_AndNothingIsWritten()
    {
        var approved = await portal.ApprovedAsync(ServedModels.Doubler);
        var runId = new string('0', 32);
        await using (var db = await portal.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Infrastructure.Persistence.PortalDbContext>>().CreateDbContextAsync())
        {
            var version = Portal.Domain.Models.ModelVersion.Register(approved.Model, approved.Version + 1, runId, "outputs/model.pkl", new string('b', 64), Some.Scientist, portal.Time);
            version.PassValidation(portal.Time);
            db.ModelVersions.Add(version);
            await db.SaveChangesAsync();
        }

        var name = Name();
        var response = await portal.Ops.PutAsJsonAsync($"/api/v1/endpoints/{name}",
            new { deployments = new[] { ServingPortal.Deployment("blue", (approved.Model, approved.Version + 1), 100) } });

        var problem = await response.JsonAsync(HttpStatusCode.Conflict);
        Assert.Contains("only an approved version can be deployed", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await portal.Ops.GetAsync($"/api/v1/endpoints/{name}")).StatusCode);
    }

    [Fact]
    public async Task DeletingADeploymentWithTraffic_Is409_WithoutTrafficItGoes_AndTheVersionIsApprovedAgain()
    {
        var endpoint = await TwoDeploymentsAsync();

        var refused = await portal.Ops.DeleteAsync($"/api/v1/endpoints/{endpoint}/deployments/blue");
        Assert.Contains("move its traffic", (await refused.JsonAsync(HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);

        var green = ServingPortal.DeploymentOf(await portal.EndpointAsync(endpoint), "green");
        (await portal.Ops.DeleteAsync($"/api/v1/endpoints/{endpoint}/deployments/green")).EnsureSuccessStatusCode();
        await ServingPortal.WaitUntilAsync(async () => (await portal.EndpointAsync(endpoint)).GetProperty("deployments").GetArrayLength() == 1, "green to go");

        var model = await (await portal.Ops.GetAsync($"/api/v1/models/{green.GetProperty("model").GetString()}/versions/{green.GetProperty("version").GetInt32()}")).JsonAsync();
        Assert.Equal("Approved", model.GetProperty("state").GetString());
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=deployment:{endpoint}:green")).JsonAsync();
        Assert.Contains(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "deployment.deleted" && e.GetProperty("actor").GetString() == "ops@demo.local");
    }

    [Fact]
    public async Task TwoTrafficEditsFromTheSameRead_TheSecondIs409()
    {
        var endpoint = await TwoDeploymentsAsync();
        var read = await portal.Ops.GetAsync($"/api/v1/endpoints/{endpoint}");
        var etag = read.Headers.ETag!.Tag;

        var first = await SetTrafficAsync(endpoint, etag, """{"traffic":{"blue":90,"green":10}}""");
        var second = await SetTrafficAsync(endpoint, etag, """{"traffic":{"blue":50,"green":50}}""");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Contains("changed by someone else", (await second.JsonAsync(HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(10, (await portal.EndpointAsync(endpoint)).GetProperty("traffic").GetProperty("green").GetInt32());
    }

    [Fact]
    public async Task TwoTrafficEditsAtTheSameMoment_OneWins_TheOtherIs409()
    {
        var endpoint = await TwoDeploymentsAsync();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            SetTrafficAsync(endpoint, null, "{\"traffic\":{\"blue\":" + (90 - i) + ",\"green\":" + (10 + i) + "}}")));

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.OK, HttpStatusCode.Conflict }));
        Assert.Contains(answers, a => a.StatusCode == HttpStatusCode.OK);
        var history = (await portal.EndpointAsync(endpoint)).GetProperty("history");
        Assert.Equal(answers.Count(a => a.StatusCode == HttpStatusCode.OK) + 1, history.GetArrayLength());
    }

    [Fact]
    public async Task CreatingTheSameEndpointAtTheSameMoment_MakesOne_TheOthersUpdateItOrAre409()
    {
        var name = Name();

        var answers = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            portal.Ops.PutAsJsonAsync($"/api/v1/endpoints/{name}", new { description = $"attempt {i}", deployments = Array.Empty<object>() })));

        Assert.All(answers, a => Assert.Contains(a.StatusCode, new[] { HttpStatusCode.Accepted, HttpStatusCode.Conflict }));
        var bodies = await Task.WhenAll(answers.Where(a => a.StatusCode == HttpStatusCode.Accepted).Select(a => a.Content.ReadAsStringAsync()));
        Assert.Single(bodies, b => b.Contains("\"keys\":{", StringComparison.Ordinal));
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=endpoint:{name}")).JsonAsync();
        Assert.Single(audit.EnumerateArray(), e => e.GetProperty("action").GetString() == "endpoint.created");
    }

    [Fact]
    public async Task OnlyOpsAndAdministrators_Change_EveryoneInTheAreaReads()
    {
        var endpoint = await TwoDeploymentsAsync();
        foreach (var user in new[] { "scientist@demo.local", "viewer@demo.local" })
        {
            var client = portal.ClientFor(user);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/api/v1/endpoints/{endpoint}")).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PutAsync($"/api/v1/endpoints/{endpoint}/traffic",
                new StringContent("""{"traffic":{"blue":50,"green":50}}""", Encoding.UTF8, "application/json"))).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsync($"/api/v1/endpoints/{endpoint}/rollback", null)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await client.DeleteAsync($"/api/v1/endpoints/{endpoint}/deployments/green")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.Forbidden, (await portal.ClientFor("reviewer@demo.local").GetAsync($"/api/v1/endpoints/{endpoint}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.AnonymousClient().GetAsync($"/api/v1/endpoints/{endpoint}")).StatusCode);
    }

    [Fact]
    public async Task Rollback_ReturnsThePreviousSplit_AndIsAuditedWithBeforeAndAfter()
    {
        var endpoint = await TwoDeploymentsAsync();
        (await SetTrafficAsync(endpoint, null, """{"traffic":{"blue":60,"green":40}}""")).EnsureSuccessStatusCode();

        var rolledBack = await (await portal.Ops.PostAsync($"/api/v1/endpoints/{endpoint}/rollback", null)).JsonAsync();

        Assert.Equal(100, rolledBack.GetProperty("traffic").GetProperty("blue").GetInt32());
        Assert.False(rolledBack.GetProperty("traffic").TryGetProperty("green", out _));
        var audit = await (await portal.ClientFor("admin@demo.local").GetAsync($"/api/v1/audit?entity=endpoint:{endpoint}")).JsonAsync();
        var last = audit.EnumerateArray().First(e => e.GetProperty("action").GetString() == "endpoint.traffic-changed");
        Assert.Equal("blue 60 %, green 40 %", last.GetProperty("before").GetString());
        Assert.Equal("blue 100 %", last.GetProperty("after").GetString());
    }

    [Fact]
    public async Task TheTwentyFirstDeployment_Is409()
    {
        // Versions whose bytes are missing fail at once without a process: twenty of them cost nothing to run.
        var missing = await ServedModels.ApprovedWithoutBytesAsync(portal.Services, $"gone-{Guid.NewGuid():N}"[..12]);
        var name = Name();
        await portal.PutAsync(name, [.. Enumerable.Range(0, 20).Select(i => ServingPortal.Deployment($"d{i:00}", (missing.ModelName, missing.Version), 0))]);

        var response = await portal.Ops.PostAsJsonAsync($"/api/v1/endpoints/{name}/deployments", new { name = "d20", model = missing.ModelName, version = missing.Version });

        Assert.Contains("20 deployments", (await response.JsonAsync(HttpStatusCode.Conflict)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var failed = await portal.WaitForStateAsync(name, "d00", "Failed");
        Assert.Contains("missing from the artifact store", failed.GetProperty("stateReason").GetString(), StringComparison.Ordinal);
    }

    private Task<HttpResponseMessage> SetTrafficAsync(string endpoint, string? etag, string body)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/endpoints/{endpoint}/traffic") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (etag is not null)
        {
            request.Headers.TryAddWithoutValidation("If-Match", etag);
        }

        return portal.Ops.SendAsync(request);
    }

    /// <summary>blue takes all traffic, green none (both real instances).</summary>
    private async Task<string> TwoDeploymentsAsync()
    {
        var version = await portal.ApprovedAsync(ServedModels.Doubler);
        var other = await portal.ApprovedAsync(ServedModels.Doubler);
        var name = Name();
        await portal.PutAsync(name, ServingPortal.Deployment("blue", version, 100), ServingPortal.Deployment("green", other, 0));
        return name;
    }

    private static string Name() => $"ep-{Guid.NewGuid():N}"[..12];
}
