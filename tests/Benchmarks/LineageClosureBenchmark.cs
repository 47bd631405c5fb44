using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Lineage;
using Portal.Infrastructure;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Persistence;

namespace Portal.Benchmarks;

/// <summary>
/// Issue 3: upstream/downstream closure on a generated lineage graph of 100k nodes shaped like a busy
/// ML platform (sources → ingest jobs → dataset versions, some derived from others → training runs →
/// model versions → deployments), through the portal's own <see cref="LineageGraph"/> on its database.
/// </summary>
internal static class LineageClosureBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var nodes = (int)Options.Long(args, "--nodes", 100_000);
        var queries = (int)Options.Long(args, "--queries", 500);
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
        var folder = Path.Combine(Path.GetTempPath(), $"portal-lineage-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            await using var services = await StartAsync(folder, postgres);
            var watch = Stopwatch.StartNew();
            var graph = Generate(nodes, new Random(42));
            await InsertAsync(services, graph.Edges);
            Console.WriteLine($"lineage-closure on {(postgres is null ? "SQLite" : "PostgreSQL")}: {graph.NodeCount:N0} nodes, {graph.Edges.Count:N0} edges generated and stored in {watch.Elapsed.TotalSeconds:0.0} s");

            var lineage = services.GetRequiredService<LineageGraph>();
            var random = new Random(7);
            await MeasureAsync("warm-up", 20, () => lineage.WalkAsync(Pick(graph.Datasets, random), LineageDirection.Both, 3), print: false);
            await MeasureAsync("impact of a dataset version (downstream, depth 20)", queries, () => lineage.WalkAsync(Pick(graph.Datasets, random), LineageDirection.Downstream, 20));
            await MeasureAsync("provenance of a deployment (upstream, depth 20)", queries, () => lineage.WalkAsync(Pick(graph.Deployments, random), LineageDirection.Upstream, 20));
            await MeasureAsync("impact of a warehouse table (downstream, depth 20)", queries / 5, () => lineage.WalkAsync(Pick(graph.Sources, random), LineageDirection.Downstream, 20));
            await MeasureAsync("lineage page of a model (both, depth 3)", queries, () => lineage.WalkAsync(Pick(graph.Models, random), LineageDirection.Both, 3));
        }
        finally
        {
            if (!Options.Flag(args, "--keep"))
            {
                Directory.Delete(folder, recursive: true);
            }
            else
            {
                Console.WriteLine($"kept {folder}");
            }
        }
    }

    private static ArtifactRef Pick(List<ArtifactRef> from, Random random) => from[random.Next(from.Count)];

    private static async Task MeasureAsync(string what, int count, Func<Task<LineageView>> walk, bool print = true)
    {
        var times = new List<double>(count);
        long nodes = 0;
        var largest = 0;
        for (var i = 0; i < count; i++)
        {
            var watch = Stopwatch.StartNew();
            var view = await walk();
            times.Add(watch.Elapsed.TotalMilliseconds);
            nodes += view.Nodes.Count;
            largest = Math.Max(largest, view.Nodes.Count);
        }

        if (print)
        {
            times.Sort();
            double At(double q) => times[Math.Min(times.Count - 1, (int)Math.Ceiling(q * times.Count) - 1)];
            Console.WriteLine($"  {what,-52} p50 {At(0.50),7:0.00} ms   p95 {At(0.95),7:0.00} ms   max {times[^1],7:0.00} ms   nodes returned avg {nodes / (double)count:0} max {largest}   ({count} queries)");
        }
    }

    private sealed record GeneratedGraph(int NodeCount, List<(ArtifactRef From, ArtifactRef To, LineageRelation Relation)> Edges,
        List<ArtifactRef> Sources, List<ArtifactRef> Datasets, List<ArtifactRef> Models, List<ArtifactRef> Deployments);

    /// <summary>Proportions: 1% sources, 9% ingest jobs, 30% dataset versions, 40% runs, 15% model versions, 5% deployments.</summary>
    private static GeneratedGraph Generate(int total, Random random)
    {
        var sources = Enumerable.Range(0, total / 100).Select(i => ArtifactRef.External("warehouse", $"table_{i}")).ToList();
        var jobs = Enumerable.Range(0, total * 9 / 100).Select(i => ArtifactRef.External("airflow", $"ingest_{i}")).ToList();
        var datasets = Enumerable.Range(0, total * 30 / 100).Select(i => ArtifactRef.Dataset($"data-{i / 10}", (i % 10) + 1)).ToList();
        var runs = Enumerable.Range(0, total * 40 / 100).Select(i => ArtifactRef.Run($"run-{i:x8}")).ToList();
        var models = Enumerable.Range(0, total * 15 / 100).Select(i => ArtifactRef.Parse($"model:model-{i / 5}:{(i % 5) + 1}")).ToList();
        var deployments = Enumerable.Range(0, total * 5 / 100).Select(i => ArtifactRef.Parse($"deployment:endpoint-{i / 2}:{(i % 2 == 0 ? "blue" : "green")}")).ToList();
        var edges = new HashSet<(ArtifactRef, ArtifactRef, LineageRelation)>();

        // Ingest jobs read 1–3 warehouse tables and write the dataset versions; a fifth of the versions are
        // derived from an earlier version instead (feature engineering), which makes chains deep.
        foreach (var job in jobs)
        {
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                edges.Add((sources[random.Next(sources.Count)], job, LineageRelation.Consumed));
            }
        }

        for (var i = 0; i < datasets.Count; i++)
        {
            if (i > 100 && random.NextDouble() < 0.2)
            {
                edges.Add((datasets[random.Next(Math.Max(0, i - 5000), i)], datasets[i], LineageRelation.DerivedFrom));
            }
            else
            {
                edges.Add((jobs[random.Next(jobs.Count)], datasets[i], LineageRelation.Produced));
            }
        }

        // Training runs read 1–3 dataset versions; every model version comes from its own run.
        foreach (var run in runs)
        {
            for (var k = random.Next(1, 4); k > 0; k--)
            {
                edges.Add((datasets[random.Next(datasets.Count)], run, LineageRelation.Consumed));
            }
        }

        for (var i = 0; i < models.Count; i++)
        {
            edges.Add((runs[i * runs.Count / models.Count], models[i], LineageRelation.RegisteredFrom));
        }

        foreach (var deployment in deployments)
        {
            for (var k = random.Next(1, 3); k > 0; k--)
            {
                edges.Add((models[random.Next(models.Count)], deployment, LineageRelation.DeployedAs));
            }
        }

        var count = sources.Count + jobs.Count + datasets.Count + runs.Count + models.Count + deployments.Count;
        return new GeneratedGraph(count, [.. edges], sources, datasets, models, deployments);
    }

    private static async Task InsertAsync(ServiceProvider services, List<(ArtifactRef From, ArtifactRef To, LineageRelation Relation)> edges)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        foreach (var chunk in edges.Chunk(20_000))
        {
            await using var db = await factory.CreateDbContextAsync();
            db.ChangeTracker.AutoDetectChangesEnabled = false;
            db.LineageEdges.AddRange(chunk.Select(e => LineageEdge.Record(e.From, e.To, e.Relation, Actor.System, TimeProvider.System, "benchmark")));
            await db.SaveChangesAsync();
        }

        // Fresh statistics, as autovacuum (PostgreSQL) or the optimizer's own sampling would have after a while.
        await using var context = await factory.CreateDbContextAsync();
        await context.Database.ExecuteSqlRawAsync("ANALYZE");
    }

    internal static async Task<ServiceProvider> StartAsync(string folder, string? postgres)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Portal:DataDirectory"] = folder,
            ["Portal:Demo:Enabled"] = "false",
        };
        if (postgres is not null)
        {
            settings["Database:Provider"] = "PostgreSQL";
            settings["Database:ConnectionString"] = postgres;
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IConfiguration>(configuration);
        services.AddInfrastructure(configuration, new BenchmarkEnvironment());
        var provider = services.BuildServiceProvider();
        await provider.InitializePortalAsync();
        return provider;
    }

    private sealed class BenchmarkEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Benchmark";

        public string ApplicationName { get; set; } = "Portal.Benchmarks";

        public string ContentRootPath { get; set; } = Path.GetTempPath();

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
