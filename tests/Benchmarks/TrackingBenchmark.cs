using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Identity;
using Portal.Infrastructure.Experiments;

namespace Portal.Benchmarks;

/// <summary>
/// The experiments issue's three targets: log-batch ingest of 1,000-point batches, run search over 100k runs
/// with 20 metrics and 20 params ordered by a metric, and a 1M-point metric history downsampled to 1,000.
/// Times are server times (the store and search services, without HTTP and JSON).
/// </summary>
internal static class TrackingBenchmark
{
    private static readonly Actor Scientist = new("bench@local", [Roles.DataScientist]);

    public static async Task IngestAsync(string[] args)
    {
        var batches = (int)Options.Long(args, "--batches", 500);
        var folder = Folder(args, "tracking-ingest");
        await using var services = await LineageClosureBenchmark.StartAsync(folder, null);
        var store = services.GetRequiredService<TrackingStore>();
        var experiment = await store.CreateExperimentAsync("ingest", null, Scientist, CancellationToken.None);
        var run = await store.CreateRunAsync(Id(experiment), "ingest", null, null, Scientist, CancellationToken.None);

        // 1,000 points per batch: 10 metrics × 100 steps, steps increasing batch after batch, as a training loop logs.
        var latencies = new List<double>(batches);
        var total = Stopwatch.StartNew();
        for (var b = 0; b < batches; b++)
        {
            var points = new List<MetricPoint>(1000);
            for (var s = 0; s < 100; s++)
            {
                var step = (b * 100) + s;
                for (var k = 0; k < 10; k++)
                {
                    points.Add(new MetricPoint($"metric_{k}", Math.Sin(step / 100.0) + k, 1_700_000_000_000 + step, step));
                }
            }

            var watch = Stopwatch.StartNew();
            await store.LogBatchAsync(run.Id, points, [], [], Scientist, CancellationToken.None);
            latencies.Add(watch.Elapsed.TotalMilliseconds);
        }

        total.Stop();
        var pointsPerSecond = batches * 1000 / total.Elapsed.TotalSeconds;
        Console.WriteLine($"log-batch ingest (SQLite, {batches} batches of 1,000 points, one run): {pointsPerSecond:N0} points/s sustained; " +
            $"request p50 {Percentile(latencies, 50):0.0} ms, p95 {Percentile(latencies, 95):0.0} ms, max {latencies.Max():0.0} ms (goal ≥ 100,000 points/s, p95 ≤ 100 ms)");
        Cleanup(folder, args);
    }

    public static async Task SearchAsync(string[] args)
    {
        var runs = (int)Options.Long(args, "--runs", 100_000);
        var queries = (int)Options.Long(args, "--queries", 200);
        // --reuse <folder> takes a folder kept by an earlier run (--keep) and skips the import.
        var reuse = Array.IndexOf(args, "--reuse") is var at and >= 0 && at + 1 < args.Length ? args[at + 1] : null;
        var folder = reuse ?? Folder(args, "runs-search");
        await using var services = await LineageClosureBenchmark.StartAsync(folder, null);
        var store = services.GetRequiredService<TrackingStore>();
        var search = services.GetRequiredService<RunSearch>();
        var time = TimeProvider.System;
        var experiment = reuse is null
            ? await store.CreateExperimentAsync("search", null, Scientist, CancellationToken.None)
            : await store.GetExperimentByNameAsync("search", CancellationToken.None);
        var random = new Random(42);
        var load = Stopwatch.StartNew();
        for (var start = 0; reuse is null && start < runs; start += 2000)
        {
            var chunk = new List<(Run, IReadOnlyList<MetricPoint>)>();
            for (var i = start; i < Math.Min(runs, start + 2000); i++)
            {
                var run = Run.Start(experiment.Id, $"run-{i:000000}", Scientist, DateTime.UtcNow.AddMinutes(-i), time);
                for (var p = 0; p < 20; p++)
                {
                    run.LogParam($"param_{p}", random.Next(0, 50).ToString(CultureInfo.InvariantCulture));
                }

                var latest = Enumerable.Range(0, 20).Select(m => new MetricPoint($"metric_{m}", random.NextDouble(), 1, 0)).ToList();
                run.Observe(latest, time);
                run.Update(RunStatus.Finished, null, null, time);
                chunk.Add((run, latest));
            }

            await store.ImportRunsAsync(chunk, CancellationToken.None);
        }

        Console.WriteLine($"runs-search: imported {runs:N0} runs × 20 metrics × 20 params in {load.Elapsed.TotalSeconds:0.0} s");
        var shapes = new (string Name, Func<Random, RunQuery> Query)[]
        {
            ("order by a metric, page 1", r => new RunQuery([experiment.Id], null, $"metrics.metric_{r.Next(20)} DESC", 0, 100)),
            ("order by a metric, page 1–50", r => new RunQuery([experiment.Id], null, $"metrics.metric_{r.Next(20)} DESC", r.Next(50) * 100, 100)),
            ("metric > x and param = v, order by metric", r => new RunQuery([experiment.Id], $"metrics.metric_{r.Next(20)} > 0.5 and params.param_{r.Next(20)} = '{r.Next(50)}'", $"metrics.metric_{r.Next(20)} DESC", 0, 100)),
            ("metric > 0.5 (half the runs), order by another metric", r => new RunQuery([experiment.Id], $"metrics.metric_{r.Next(20)} > 0.5", $"metrics.metric_{r.Next(20)} DESC", 0, 100)),
            ("order by a param", r => new RunQuery([experiment.Id], null, $"params.param_{r.Next(20)} ASC", 0, 100)),
            ("newest first (default)", r => new RunQuery([experiment.Id], null, null, r.Next(50) * 100, 100)),
            ("count of a metric filter (table total)", r => new RunQuery([experiment.Id], $"metrics.metric_{r.Next(20)} > 0.9", null, 0, 100, CountTotal: true)),
        };
        foreach (var (name, query) in shapes)
        {
            var times = new List<double>();
            var rq = new Random(7);
            for (var i = 0; i < queries; i++)
            {
                var watch = Stopwatch.StartNew();
                var page = await search.SearchAsync(query(rq), CancellationToken.None);
                times.Add(watch.Elapsed.TotalMilliseconds);
                if (page.Items.Count == 0)
                {
                    throw new InvalidOperationException($"{name}: empty page");
                }
            }

            Console.WriteLine($"runs-search ({runs:N0} runs, page of 100) {name}: p50 {Percentile(times, 50):0.00} ms, p95 {Percentile(times, 95):0.00} ms (goal p95 ≤ 50 ms)");
        }

        if (reuse is null)
        {
            Cleanup(folder, args);
        }
    }

    public static async Task HistoryAsync(string[] args)
    {
        var points = (int)Options.Long(args, "--points", 1_000_000);
        var reads = (int)Options.Long(args, "--reads", 100);
        var folder = Folder(args, "metric-history");
        await using var services = await LineageClosureBenchmark.StartAsync(folder, null);
        var store = services.GetRequiredService<TrackingStore>();
        var series = services.GetRequiredService<MetricSeries>();
        var experiment = await store.CreateExperimentAsync("history", null, Scientist, CancellationToken.None);
        var run = await store.CreateRunAsync(Id(experiment), "long", null, null, Scientist, CancellationToken.None);
        var load = Stopwatch.StartNew();
        for (var start = 0; start < points; start += 1000)
        {
            var batch = Enumerable.Range(start, Math.Min(1000, points - start))
                .Select(step => new MetricPoint("loss", (1.0 / (1 + (step / 10_000.0))) + (Math.Sin(step) * 0.01), 1_700_000_000_000 + step, step)).ToList();
            await store.LogBatchAsync(run.Id, batch, [], [], Scientist, CancellationToken.None);
        }

        Console.WriteLine($"metric-history: logged {points:N0} points through log-batch in {load.Elapsed.TotalSeconds:0.0} s ({points / load.Elapsed.TotalSeconds:N0} points/s)");
        foreach (var (name, range) in new (string, Func<Random, (long?, long?)>)[]
        {
            ("whole series", _ => (null, null)),
            ("random zoom (10%)", r => { var from = r.Next(0, points * 9 / 10); return (from, from + (points / 10)); }),
            ("deep zoom (800 steps, raw)", r => { var from = r.Next(0, points - 800); return (from, from + 800); }),
        })
        {
            var times = new List<double>();
            var allocated = new List<long>();
            var sizes = new List<int>();
            var r = new Random(3);
            for (var i = 0; i < reads; i++)
            {
                var (from, to) = range(r);
                var before = GC.GetTotalAllocatedBytes(precise: true);
                var watch = Stopwatch.StartNew();
                var result = await series.ReadAsync(run.Id, "loss", from, to, 1000, CancellationToken.None);
                times.Add(watch.Elapsed.TotalMilliseconds);
                allocated.Add(GC.GetTotalAllocatedBytes(precise: true) - before);
                sizes.Add(result.Points.Count);
            }

            Console.WriteLine($"metric-history ({points:N0} points → ≤1,000) {name}: p50 {Percentile(times, 50):0.00} ms, p95 {Percentile(times, 95):0.00} ms, " +
                $"{sizes.Average():0} points returned, allocated p50 {Percentile([.. allocated.Select(a => (double)a)], 50) / 1024:0} KiB (goal ≤ 100 ms, memory independent of stored points)");
        }

        Cleanup(folder, args);
    }

    private static string Id(Experiment experiment) => experiment.Id.ToString(CultureInfo.InvariantCulture);

    private static string Folder(string[] args, string name)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"portal-bench-{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static void Cleanup(string folder, string[] args)
    {
        if (Options.Flag(args, "--keep"))
        {
            Console.WriteLine($"kept {folder}");
            return;
        }

        try
        {
            Directory.Delete(folder, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    internal static double Percentile(IReadOnlyList<double> values, double percentile)
    {
        var sorted = values.Order().ToList();
        var index = (int)Math.Ceiling(percentile / 100 * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
