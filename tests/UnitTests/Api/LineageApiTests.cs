using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class LineageApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;
    private readonly HttpClient _scientist;

    public LineageApiTests(PortalFactory portal)
    {
        _portal = portal;
        _scientist = portal.ClientFor("scientist@demo.local");
    }

    [Fact]
    public async Task AnOpenLineageRunEvent_BecomesEdges_ThatTheWalkAndTheFeedShow()
    {
        await _portal.WaitForDemoDataAsync();
        var job = $"nightly-{Guid.NewGuid():N}"[..16];
        var runEvent = Event("COMPLETE", job,
            inputs: [new { @namespace = "mlops-portal", name = "dataset:credit-risk:1" }, new { @namespace = "postgres://dwh", name = "public.applications" }],
            outputs: [new { @namespace = "s3://lake", name = $"{job}/features.parquet" }]);

        var recorded = await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", runEvent)).JsonAsync();
        Assert.Equal(3, recorded.GetProperty("recorded").GetInt32());
        var again = await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", runEvent)).JsonAsync();
        Assert.Equal(0, again.GetProperty("recorded").GetInt32());

        var down = await (await _scientist.GetAsync("/api/v1/lineage?artifact=dataset:credit-risk:1&direction=downstream&depth=2")).JsonAsync();
        var nodes = down.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("ref").GetString()!, n => n.GetProperty("kind").GetString());
        Assert.Equal("external", nodes[$"external:openlineage/{job}"]);
        Assert.Contains(nodes.Keys, k => k.StartsWith("external:s3", StringComparison.Ordinal) && k.Contains("features.parquet", StringComparison.Ordinal));
        Assert.DoesNotContain(nodes.Keys, k => k.Contains("applications", StringComparison.Ordinal));
        Assert.Contains(down.GetProperty("edges").EnumerateArray(), e =>
            e.GetProperty("from").GetString() == "dataset:credit-risk:1" && e.GetProperty("relation").GetString() == "consumed");

        var up = await (await _scientist.GetAsync($"/api/v1/lineage?artifact={Uri.EscapeDataString($"external:openlineage/{job}")}&direction=upstream")).JsonAsync();
        Assert.Contains(up.GetProperty("nodes").EnumerateArray(), n => n.GetProperty("ref").GetString()!.Contains("applications", StringComparison.Ordinal));

        var feed = await (await _scientist.GetAsync("/api/v1/lineage/openlineage?since=2000-01-01T00:00:00Z&take=10000")).JsonAsync();
        var ours = feed.EnumerateArray().Single(e => e.GetProperty("job").GetProperty("name").GetString()!.Contains(job, StringComparison.Ordinal));
        Assert.Equal("COMPLETE", ours.GetProperty("eventType").GetString());
        Assert.Equal(2, ours.GetProperty("inputs").GetArrayLength());
        Assert.Contains(ours.GetProperty("outputs").EnumerateArray(), o => o.GetProperty("namespace").GetString() == "s3://lake" && o.GetProperty("name").GetString() == $"{job}/features.parquet");
        Assert.True(Guid.TryParse(ours.GetProperty("run").GetProperty("runId").GetString(), out _));
        Assert.StartsWith("https://openlineage.io/spec/", ours.GetProperty("schemaURL").GetString());
    }

    [Fact]
    public async Task StartEvents_AreAccepted_ButAddNoEdges()
    {
        await _portal.WaitForDemoDataAsync();
        var response = await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", Event("START", "starting-job",
            inputs: [new { @namespace = "mlops-portal", name = "dataset:credit-risk:2" }], outputs: []));

        Assert.Equal(0, (await response.JsonAsync()).GetProperty("recorded").GetInt32());
    }

    [Fact]
    public async Task AMalformedEvent_IsRefusedFieldByField_AndRecordsNothing()
    {
        var response = await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", new
        {
            eventType = "FINISHED",
            run = new { runId = "not-a-uuid" },
            job = new { @namespace = "", name = "x" },
            inputs = new object[] { new { @namespace = "mlops-portal", name = "dataset:Bad Name:1" } },
        });

        var errors = (await response.JsonAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
        foreach (var field in new[] { "eventType", "eventTime", "run.runId", "job", "producer", "inputs[0].name" })
        {
            Assert.True(errors.TryGetProperty(field, out _), $"no error for {field}: {errors}");
        }
    }

    [Theory]
    [InlineData("/api/v1/lineage", "artifact")]
    [InlineData("/api/v1/lineage?artifact=banana:1", "artifact")]
    [InlineData("/api/v1/lineage?artifact=dataset:credit-risk:1&direction=sideways", "direction")]
    [InlineData("/api/v1/lineage?artifact=dataset:credit-risk:1&depth=0", "depth")]
    [InlineData("/api/v1/lineage?artifact=dataset:credit-risk:1&depth=500", "depth")]
    public async Task BadWalkRequests_Are400_NamingTheParameter(string url, string field)
    {
        var errors = (await (await _scientist.GetAsync(url)).JsonAsync(HttpStatusCode.BadRequest)).GetProperty("errors");

        Assert.True(errors.TryGetProperty(field, out _), errors.ToString());
    }

    [Fact]
    public async Task UnknownArtifacts_Are404()
    {
        var detail = await (await _scientist.GetAsync("/api/v1/lineage?artifact=model:never-registered:1")).AssertProblemAsync(HttpStatusCode.NotFound);

        Assert.Contains("model:never-registered:1", detail);
    }

    [Fact]
    public async Task Viewers_ReadLineage_ButCannotWriteIt()
    {
        var viewer = _portal.ClientFor("viewer@demo.local");

        Assert.Equal(HttpStatusCode.Forbidden, (await viewer.PostAsJsonAsync("/api/v1/lineage/openlineage", Event("COMPLETE", "viewer-job", [], []))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await viewer.GetAsync("/api/v1/lineage/openlineage")).StatusCode);
    }

    [Fact]
    public async Task AHugeEvent_IsRefusedAtItsSize_AndOneWithTooManyInputsByTheirNumber_RecordingNothing()
    {
        var before = await EdgeCountAsync();
        var huge = Event("COMPLETE", "huge-job", [.. Enumerable.Range(0, 86_000).Select(i => (object)new { @namespace = "s3://lake", name = $"part-{i:000000}.parquet" })], []);
        var tooLarge = await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("Portal:Lineage:MaxEventKilobytes", await tooLarge.Content.ReadAsStringAsync());

        var many = Event("COMPLETE", "many-job", [.. Enumerable.Range(0, 5_000).Select(i => (object)new { @namespace = "s3", name = $"p{i}" })], []);
        var errors = (await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", many)).JsonAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
        Assert.Contains("at most 1000", errors.GetProperty("inputs")[0].GetString());
        Assert.Equal(before, await EdgeCountAsync());
    }

    [Fact]
    public async Task AThousandInputs_AreRecordedInOneGo()
    {
        var job = $"wide-{Guid.NewGuid():N}"[..14];
        var wide = Event("COMPLETE", job, [.. Enumerable.Range(0, 1_000).Select(i => (object)new { @namespace = "s3://lake", name = $"{job}/p{i}" })],
            [new { @namespace = "s3://lake", name = $"{job}/out" }]);

        var recorded = await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", wide)).JsonAsync();

        Assert.Equal(1_001, recorded.GetProperty("recorded").GetInt32());
        Assert.Equal(0, (await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", wide)).JsonAsync()).GetProperty("recorded").GetInt32());
    }

    [Fact]
    public async Task AnEvent_CannotNameWhatThePortalDoesNotHold_NorProduceItsModelsRunsOrDeployments()
    {
        await _portal.WaitForDemoDataAsync();
        var before = await EdgeCountAsync();
        foreach (var (body, field) in new (object, string)[]
        {
            (Event("COMPLETE", "ghost-reader", [new { @namespace = "mlops-portal", name = "dataset:no-such-ds:99" }], []), "inputs[0].name"),
            (Event("COMPLETE", "ghost-reader", [new { @namespace = "mlops-portal", name = "model:credit-risk:99" }], []), "inputs[0].name"),
            (Event("COMPLETE", "forger", [], [new { @namespace = "mlops-portal", name = "model:credit-risk:1" }]), "outputs[0].name"),
            (Event("COMPLETE", "forger", [], [new { @namespace = "mlops-portal", name = "deployment:credit-risk:blue" }]), "outputs[0].name"),
            (EventOf("mlops-portal", "run:0123456789abcdef0123456789abcdef", [new { @namespace = "s3", name = "x" }]), "job"),
        })
        {
            var errors = (await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", body)).JsonAsync(HttpStatusCode.BadRequest)).GetProperty("errors");
            Assert.True(errors.TryGetProperty(field, out _), $"expected an error on {field}: {errors}");
        }

        Assert.Equal(before, await EdgeCountAsync());
        // Reading the portal's own data from elsewhere (a scheduler's job) is fine.
        var reader = Event("COMPLETE", $"reader-{Guid.NewGuid():N}"[..14], [new { @namespace = "mlops-portal", name = "dataset:credit-risk:2" }], [new { @namespace = "s3", name = "scores" }]);
        Assert.Equal(2, (await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", reader)).JsonAsync()).GetProperty("recorded").GetInt32());
    }

    private async Task<int> EdgeCountAsync()
    {
        await using var db = await _portal.Services.GetRequiredService<Microsoft.EntityFrameworkCore.IDbContextFactory<Portal.Infrastructure.Persistence.PortalDbContext>>().CreateDbContextAsync();
        return await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.LineageEdges);
    }

    private static object EventOf(string jobNamespace, string job, object[] inputs) => new
    {
        eventType = "COMPLETE",
        eventTime = DateTimeOffset.UtcNow,
        run = new { runId = Guid.NewGuid() },
        job = new { @namespace = jobNamespace, name = job },
        inputs,
        outputs = Array.Empty<object>(),
        producer = "https://example.com/scheduler",
    };

    private static object Event(string type, string job, object[] inputs, object[] outputs) => new
    {
        eventType = type,
        eventTime = DateTimeOffset.UtcNow,
        run = new { runId = Guid.NewGuid() },
        job = new { @namespace = "openlineage", name = job },
        inputs,
        outputs,
        producer = "https://github.com/OpenLineage/OpenLineage/tree/1.0.0/integration/airflow",
        schemaURL = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
    };
}
