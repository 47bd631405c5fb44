using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Identity;
using Portal.Infrastructure.Experiments;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Experiments;

/// <summary>Points, dedupe, rollups and search are raw SQL in places; they run here on both database engines.</summary>
public abstract class TrackingStoreContract : IDisposable
{
    private static readonly Actor Scientist = new("scientist@test", [Roles.DataScientist]);
    private readonly TempFolder _data = new();

    protected string DataDirectory => _data.Path;

    protected abstract Task<InfrastructureBuilder> BuilderAsync();

    [Fact]
    public async Task ALongSeries_IsDownsampledToAboutAThousandPoints_KeepingSpikesAndGaps_AndZoomGivesEveryPoint()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var store = services.GetRequiredService<TrackingStore>();
        var series = services.GetRequiredService<MetricSeries>();
        var experiment = await store.CreateExperimentAsync("long", null, Scientist, CancellationToken.None);
        var run = await store.CreateRunAsync(experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "long", null, null, Scientist, CancellationToken.None);
        const int Steps = 50_000;
        for (var start = 0; start < Steps; start += 1000)
        {
            var batch = Enumerable.Range(start, 1000).Select(step => new MetricPoint("loss",
                step == 31_337 ? 99.0 : step is >= 20_000 and < 20_500 ? double.NaN : 1.0 / (1 + (step / 1000.0)), step, step)).ToList();
            await store.LogBatchAsync(run.Id, batch, [], [], Scientist, CancellationToken.None);
            if (start == 0)
            {
                await store.LogBatchAsync(run.Id, batch, [], [], Scientist, CancellationToken.None); // a retry
            }
        }

        var (page, _) = await store.GetMetricHistoryAsync(run.Id, "loss", 25_000, null, CancellationToken.None);
        Assert.Equal(25_000, page.Count);
        Assert.Equal(999, page[999].Step);
        Assert.Equal(1000, page[1000].Step); // the retried first batch added nothing

        var whole = await series.ReadAsync(run.Id, "loss", null, null, 1000, CancellationToken.None);
        Assert.True(whole.Downsampled);
        Assert.InRange(whole.Points.Count, 200, 1050);
        Assert.Contains(whole.Points, p => p.Value == 99.0 && p.Step == 31_337);
        Assert.Contains(whole.Points, p => p.Value is null && p.Step is >= 19_000 and <= 21_000);
        Assert.Equal(1.0, whole.Points.First(p => p.Value is not null).Value);
        Assert.Equal(Steps - 1, whole.Points[^1].Step);
        Assert.True(whole.Points.Zip(whole.Points.Skip(1)).All(pair => pair.First.Step < pair.Second.Step));

        var zoom = await series.ReadAsync(run.Id, "loss", 31_000, 31_500, 1000, CancellationToken.None);
        Assert.False(zoom.Downsampled);
        Assert.Equal(501, zoom.Points.Count);
        Assert.Equal(99.0, zoom.Points.Single(p => p.Step == 31_337).Value);
    }

    [Fact]
    public async Task Search_OrdersByAMetric_FiltersByParam_AndPutsRunsWithoutTheMetricLast()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var store = services.GetRequiredService<TrackingStore>();
        var search = services.GetRequiredService<RunSearch>();
        var experiment = await store.CreateExperimentAsync("search", null, Scientist, CancellationToken.None);
        var id = experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        for (var i = 0; i < 30; i++)
        {
            var run = await store.CreateRunAsync(id, $"r{i:00}", DateTime.UtcNow.AddMinutes(i), null, Scientist, CancellationToken.None);
            var metrics = i % 10 == 9 ? [] : new[] { new MetricPoint("auc", i % 7 == 0 ? double.NaN : i / 100.0, 1, 0) };
            await store.LogBatchAsync(run.Id, metrics, [new("depth", (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture))], [], Scientist, CancellationToken.None);
        }

        var page = await search.SearchAsync(new RunQuery([experiment.Id], "params.depth = '2'", "metrics.auc DESC", 0, 100, CountTotal: true), CancellationToken.None);

        Assert.Equal(10, page.Total);
        // depth 2: i = 2,5,8,11,14,17,20,23,26,29; no auc for 29, NaN for 14 → after the numbers, newest first.
        Assert.Equal(["r26", "r23", "r20", "r17", "r11", "r08", "r05", "r02", "r29", "r14"], page.Items.Select(r => r.Name));
        var second = await search.SearchAsync(new RunQuery([experiment.Id], "params.depth = '2'", "metrics.auc DESC", 7, 2), CancellationToken.None);
        Assert.Equal(["r02", "r29"], second.Items.Select(r => r.Name));
    }

    [Fact]
    public async Task EachExperiment_ShowsItsOwnLastRun_NotThePortalsNewest()
    {
        await using var services = await (await BuilderAsync()).StartAsync();
        var store = services.GetRequiredService<TrackingStore>();
        var old = await store.CreateExperimentAsync("quiet", null, Scientist, CancellationToken.None);
        var busy = await store.CreateExperimentAsync("busy", null, Scientist, CancellationToken.None);
        var empty = await store.CreateExperimentAsync("empty", null, Scientist, CancellationToken.None);
        var lastWeek = new DateTime(2026, 11, 20, 9, 0, 0, DateTimeKind.Utc);
        await store.CreateRunAsync(old.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "old", lastWeek, null, Scientist, CancellationToken.None);
        await store.CreateRunAsync(busy.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "new", lastWeek.AddDays(5), null, Scientist, CancellationToken.None);

        var page = await store.SearchExperimentsAsync(null, 0, 50, false, CancellationToken.None);

        var lastRun = page.Items.ToDictionary(e => e.Experiment.Name, e => e.LastRunAt);
        Assert.Equal(lastWeek, lastRun["quiet"]?.ToUniversalTime());
        Assert.Equal(lastWeek.AddDays(5), lastRun["busy"]?.ToUniversalTime());
        Assert.Null(lastRun["empty"]);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}

public sealed class SqliteTrackingStoreTests : TrackingStoreContract
{
    protected override Task<InfrastructureBuilder> BuilderAsync() => Task.FromResult(new InfrastructureBuilder(DataDirectory).With("Portal:Demo:Enabled", "false"));
}

[Collection(PostgresCollection.Name)]
public sealed class PostgresTrackingStoreTests(PostgresServer postgres) : TrackingStoreContract
{
    protected override async Task<InfrastructureBuilder> BuilderAsync() =>
        new InfrastructureBuilder(DataDirectory).With("Portal:Demo:Enabled", "false")
            .With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", await postgres.CreateDatabaseAsync());
}
