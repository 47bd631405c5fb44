using Portal.Domain.Common;
using Portal.Domain.Lineage;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Lineage;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Lineage;

/// <summary>The closure queries are recursive SQL; they run here on both database engines.</summary>
public abstract class LineageGraphContract : IDisposable
{
    private readonly TempFolder _data = new();

    protected string DataDirectory => _data.Path;

    protected abstract Task<InfrastructureBuilder> BuilderAsync();

    [Fact]
    public async Task RunNodes_AreLabelledWithTheRunsName_AndUnknownRunsWithTheirId()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var graph = services.GetRequiredService<LineageGraph>();
        var store = services.GetRequiredService<Portal.Infrastructure.Experiments.TrackingStore>();
        var scientist = new Actor("scientist@demo.local", [Portal.Domain.Identity.Roles.DataScientist]);
        var experiment = await store.CreateExperimentAsync($"lineage-{Guid.NewGuid():N}"[..16], null, scientist, CancellationToken.None);
        var run = await store.CreateRunAsync(experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "nightly-train", null, null, scientist, CancellationToken.None);
        await graph.RecordAsync(
        [
            (ArtifactRef.Parse($"run:{run.Id}"), ArtifactRef.Parse("model:named:1"), LineageRelation.RegisteredFrom),
            (ArtifactRef.Parse("run:gone-elsewhere"), ArtifactRef.Parse("model:named:1"), LineageRelation.RegisteredFrom),
        ], Actor.System, "test");

        var up = await graph.WalkAsync(ArtifactRef.Parse("model:named:1"), LineageDirection.Upstream, 1);

        Assert.Equal("run nightly-train", up.Nodes.Single(n => n.Ref == $"run:{run.Id}").Label);
        Assert.Equal("run gone-elsewhere", up.Nodes.Single(n => n.Ref == "run:gone-elsewhere").Label);
    }

    [Fact]
    public async Task Closure_FollowsEdgesUpAndDown_ToTheDepthAsked_WithoutLoopingOnCycles()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var graph = services.GetRequiredService<LineageGraph>();
        // warehouse → extract job → raw v1 → clean run → features v1 → train run → model v1 → deployment
        string[] chain = ["external:warehouse/loans", "run:extract", "dataset:raw:1", "run:clean", "dataset:features:1", "run:train", "model:scorer:1", "deployment:scoring:blue"];
        LineageRelation[] relations = [LineageRelation.Consumed, LineageRelation.Produced, LineageRelation.Consumed, LineageRelation.Produced, LineageRelation.Consumed, LineageRelation.RegisteredFrom, LineageRelation.DeployedAs];
        var edges = chain.Zip(chain.Skip(1), relations).Select(x => (ArtifactRef.Parse(x.First), ArtifactRef.Parse(x.Second), x.Third)).ToList();
        // A cycle someone recorded by mistake must not hang the walk.
        edges.Add((ArtifactRef.Parse("deployment:scoring:blue"), ArtifactRef.Parse("external:warehouse/loans"), LineageRelation.DerivedFrom));

        Assert.Equal(8, await graph.RecordAsync(edges, Actor.System, "test"));
        Assert.Equal(0, await graph.RecordAsync(edges, Actor.System, "test"));

        var down = await graph.WalkAsync(ArtifactRef.Parse("dataset:raw:1"), LineageDirection.Downstream, 20);
        Assert.Contains("deployment:scoring:blue", down.Nodes.Select(n => n.Ref));
        Assert.Equal(5, down.Distance["deployment:scoring:blue"]);
        Assert.Equal(ArtifactKind.Model, down.Nodes.Single(n => n.Ref == "model:scorer:1").Kind);

        var shallow = await graph.WalkAsync(ArtifactRef.Parse("dataset:raw:1"), LineageDirection.Downstream, 2);
        Assert.Equal(["dataset:features:1", "dataset:raw:1", "run:clean"], shallow.Nodes.Select(n => n.Ref).Order(StringComparer.Ordinal));

        var up = await graph.WalkAsync(ArtifactRef.Parse("model:scorer:1"), LineageDirection.Upstream, 3);
        Assert.Equal(["dataset:features:1", "model:scorer:1", "run:clean", "run:train"], up.Nodes.Select(n => n.Ref).Order(StringComparer.Ordinal));
        Assert.All(up.Edges, e => Assert.True(up.Distance.ContainsKey(e.From) && up.Distance.ContainsKey(e.To)));

        Assert.True(await graph.KnowsAsync(ArtifactRef.Parse("run:train")));
        Assert.False(await graph.KnowsAsync(ArtifactRef.Parse("run:nothing")));
        Assert.Contains("model:scorer:1", await graph.SearchAsync("scorer"));
    }

    [Fact]
    public async Task RegisteredDatasetVersions_AreKnownToLineage_BeforeAnyEdge()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var catalog = services.GetRequiredService<DatasetCatalog>();
        using var csv = new MemoryStream("id,score\n1,0.5\n2,0.7\n"u8.ToArray());
        await catalog.RegisterVersionAsync("scores", csv, "scores.csv", null, new Actor("ada@demo.local", [Portal.Domain.Identity.Roles.DataScientist]), CancellationToken.None);

        var graph = services.GetRequiredService<LineageGraph>();
        Assert.True(await graph.KnowsAsync(ArtifactRef.Dataset("scores", 1)));
        Assert.Contains("dataset:scores:1", await graph.SearchAsync("scores"));
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteLineageGraphTests : LineageGraphContract
{
    protected override Task<InfrastructureBuilder> BuilderAsync() => Task.FromResult(new InfrastructureBuilder(DataDirectory).With("Portal:Demo:Enabled", "false"));
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresLineageGraphTests(PostgresServer postgres) : LineageGraphContract
{
    protected override async Task<InfrastructureBuilder> BuilderAsync() =>
        new InfrastructureBuilder(DataDirectory).With("Portal:Demo:Enabled", "false")
            .With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", await postgres.CreateDatabaseAsync());
}
