using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Infrastructure.Lineage;

namespace Portal.Benchmarks;

/// <summary>
/// Issue 10: recording OpenLineage events must cost in proportion to their edges (it was one query per
/// edge plus a quadratic scan: 5,000 inputs took 4.8 s). Events of growing width go through the same
/// check and bulk write as <c>POST /api/v1/lineage/openlineage</c>; the cost per edge should stay flat.
/// </summary>
internal static class OpenLineageBenchmark
{
    public static async Task RunAsync(string[] args)
    {
        var events = (int)Options.Long(args, "--events", 20);
        var folder = Path.Combine(Path.GetTempPath(), $"portal-openlineage-bench-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            await using var services = await LineageClosureBenchmark.StartAsync(folder, null);
            var graph = services.GetRequiredService<LineageGraph>();
            var actor = new Actor("bench@example.com");
            Console.WriteLine($"openlineage record on SQLite: {events} events per width, each with new inputs and one output");
            foreach (var width in new[] { 10, 100, 1_000, 5_000 })
            {
                var times = new List<double>();
                for (var e = 0; e < events; e++)
                {
                    var job = $"job-{width}-{e}";
                    var runEvent = new OpenLineageEvent("COMPLETE", DateTimeOffset.UtcNow, new OpenLineageRun(Guid.NewGuid().ToString()), new OpenLineageJob("bench", job),
                        [.. Enumerable.Range(0, width).Select(i => new OpenLineageDataset("s3://lake", $"{job}/part-{i}"))], [new OpenLineageDataset("s3://lake", $"{job}/out")],
                        "https://example.com/bench", null);
                    var watch = Stopwatch.StartNew();
                    var errors = OpenLineage.Check(runEvent, maxDatasets: 10_000);
                    if (!errors.IsEmpty)
                    {
                        throw new InvalidOperationException(errors.ToString());
                    }

                    await graph.RecordAsync(OpenLineage.Edges(runEvent), actor, "openlineage");
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                times.Sort();
                var p50 = times[times.Count / 2];
                Console.WriteLine($"  {width,6:N0} inputs   p50 {p50,8:0.0} ms   max {times[^1],8:0.0} ms   per edge {p50 * 1000 / (width + 1),7:0.0} µs");
            }
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
}
