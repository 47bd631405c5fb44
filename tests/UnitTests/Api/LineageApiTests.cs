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
        var job = $"nightly-{Guid.NewGuid():N}"[..16];
        var runEvent = Event("COMPLETE", job,
            inputs: [new { @namespace = "mlops-portal", name = "dataset:loans:1" }, new { @namespace = "postgres://dwh", name = "public.applications" }],
            outputs: [new { @namespace = "s3://lake", name = $"{job}/features.parquet" }]);

        var recorded = await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", runEvent)).JsonAsync();
        Assert.Equal(3, recorded.GetProperty("recorded").GetInt32());
        var again = await (await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", runEvent)).JsonAsync();
        Assert.Equal(0, again.GetProperty("recorded").GetInt32());

        var down = await (await _scientist.GetAsync("/api/v1/lineage?artifact=dataset:loans:1&direction=downstream&depth=2")).JsonAsync();
        var nodes = down.GetProperty("nodes").EnumerateArray().ToDictionary(n => n.GetProperty("ref").GetString()!, n => n.GetProperty("kind").GetString());
        Assert.Equal("external", nodes[$"external:openlineage/{job}"]);
        Assert.Contains(nodes.Keys, k => k.StartsWith("external:s3", StringComparison.Ordinal) && k.Contains("features.parquet", StringComparison.Ordinal));
        Assert.DoesNotContain(nodes.Keys, k => k.Contains("applications", StringComparison.Ordinal));
        Assert.Contains(down.GetProperty("edges").EnumerateArray(), e =>
            e.GetProperty("from").GetString() == "dataset:loans:1" && e.GetProperty("relation").GetString() == "consumed");

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
        var response = await _scientist.PostAsJsonAsync("/api/v1/lineage/openlineage", Event("START", "starting-job",
            inputs: [new { @namespace = "mlops-portal", name = "dataset:loans:9" }], outputs: []));

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
    [InlineData("/api/v1/lineage?artifact=dataset:loans:1&direction=sideways", "direction")]
    [InlineData("/api/v1/lineage?artifact=dataset:loans:1&depth=0", "depth")]
    [InlineData("/api/v1/lineage?artifact=dataset:loans:1&depth=500", "depth")]
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
