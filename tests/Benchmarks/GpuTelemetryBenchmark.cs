using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Compute;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Persistence;

namespace Portal.Benchmarks;

/// <summary>
/// The GPU issue's targets: ingesting a 1,000-GPU fleet at one 9-field sample per GPU per second (nvidia-smi CSV
/// per host of 8 GPUs, parsed and stored through the one ingestion path, rollups included) with its headroom;
/// the fleet heatmap for 64 GPUs × 7 days; the cost roll-up by team over a year for 100 GPUs; storage per sample.
/// Times are server times (the services, without HTTP).
/// </summary>
internal static class GpuTelemetryBenchmark
{
    private const int GpusPerHost = 8;

    public static async Task RunAsync(string[] args)
    {
        var postgres = args.SkipWhile(a => a != "--postgres").Skip(1).FirstOrDefault();
        var seconds = (int)Options.Long(args, "--seconds", 60);
        var gpus = (int)Options.Long(args, "--gpus", 1000);
        await IngestAsync(null, gpus, seconds);
        if (postgres is not null)
        {
            await IngestAsync(postgres, gpus, seconds);
        }

        await QueriesAsync();
    }

    /// <summary>Fleet-seconds of readings ingested as fast as they go: the sustained rate and its headroom over one per GPU per second.</summary>
    private static async Task IngestAsync(string? postgres, int gpus, int seconds)
    {
        var folder = Path.Combine(Path.GetTempPath(), $"portal-gpu-bench-{Environment.ProcessId}-{Guid.NewGuid():N}"[..48]);
        Directory.CreateDirectory(folder);
        try
        {
            await using var services = await LineageClosureBenchmark.StartAsync(folder, postgres);
            var ingestor = services.GetRequiredService<TelemetryIngestor>();
            var rollups = services.GetRequiredService<TelemetryRollups>();
            var hosts = gpus / GpusPerHost;
            const int WarmUp = 3;
            var start = DateTime.UtcNow.AddSeconds(-seconds - WarmUp - 5);
            var samples = 0L;
            var batches = new List<double>();
            var watch = new Stopwatch();
            for (var s = -WarmUp; s < seconds; s++)
            {
                if (s == 0)
                {
                    // The first fleet-seconds warm up the JIT and EF's query cache; the rate is measured after them.
                    await rollups.RollUpAsync(CancellationToken.None);
                    (samples, batches) = (0, []);
                    watch.Start();
                }

                var at = start.AddSeconds(s + WarmUp);
                for (var h = 0; h < hosts; h++)
                {
                    var one = Stopwatch.StartNew();
                    var readings = NvidiaSmiCsv.ParseGpus(Csv(h, at), TimeZoneInfo.Utc);
                    var result = await ingestor.IngestAsync(new TelemetryBatch($"node-{h:0000}", "bench", readings, []), new IngestSettings("Standard_ND96isr_H100_v5"), CancellationToken.None);
                    samples += result.Stored;
                    batches.Add(one.Elapsed.TotalMilliseconds);
                }

                if (s % 10 == 9)
                {
                    // The worker rolls up every 10 s; its work is part of sustaining the rate.
                    await rollups.RollUpAsync(CancellationToken.None);
                }
            }

            await rollups.RollUpAsync(CancellationToken.None);
            watch.Stop();
            var rate = samples / watch.Elapsed.TotalSeconds;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"gpu ingest on {(postgres is null ? "SQLite" : "PostgreSQL")}: {gpus:N0} GPUs × {seconds} s = {samples:N0} samples (9 fields, nvidia-smi CSV per 8-GPU host, parsed + stored + rolled up) in {watch.Elapsed.TotalSeconds:0.0} s: " +
                $"{rate:N0} samples/s sustained = {rate / gpus:0.0}× headroom over 1 sample/GPU/s (goal ≥ 10×); per-host body p50 {TrackingBenchmark.Percentile(batches, 50):0.00} ms, p99 {TrackingBenchmark.Percentile(batches, 99):0.00} ms"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private static string Csv(int host, DateTime at)
    {
        var text = new StringBuilder(GpusPerHost * 110);
        var time = at.ToString("yyyy/MM/dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        for (var g = 0; g < GpusPerHost; g++)
        {
            var busy = (host * 7 + g * 13 + at.Second) % 101;
            text.Append(time).Append(", ").Append(g).Append(", GPU-").Append(host.ToString("00000000", CultureInfo.InvariantCulture)).Append("-0000-4000-8000-").Append(g.ToString("000000000000", CultureInfo.InvariantCulture))
                .Append(", NVIDIA H100 80GB HBM3, ").Append(busy).Append(" %, ").Append(40_000 + busy * 300).Append(" MiB, 81559 MiB, ").Append((70 + busy * 6.1).ToString("0.00", CultureInfo.InvariantCulture)).Append(" W, ").Append(30 + busy / 3).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>Heatmap, cost roll-up and storage on data written straight into the tables they read.</summary>
    private static async Task QueriesAsync()
    {
        var folder = Path.Combine(Path.GetTempPath(), $"portal-gpu-bench-q-{Environment.ProcessId}");
        Directory.CreateDirectory(folder);
        try
        {
            await using var services = await LineageClosureBenchmark.StartAsync(folder, null);
            var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
            var now = DateTime.UtcNow;
            var hour = TelemetryRollups.Ms(now) / 3_600_000 * 3_600_000;

            // 64 GPUs: 7 days of hour rollups, 3 days of minute rollups, the last hour of raw readings.
            var load = Stopwatch.StartNew();
            await using (var db = await factory.CreateDbContextAsync())
            {
                for (var d = 0; d < 64; d++)
                {
                    db.GpuDevices.Add(new GpuDevice { Host = $"node-{d / 8:00}", DeviceKey = $"GPU-{d:00000000}", Uuid = $"GPU-{d:00000000}", Index = d % 8, Compute = "Standard_ND96isr_H100_v5", FirstSeen = now, LastSeen = now });
                }

                await db.SaveChangesAsync();
                var ids = await db.GpuDevices.Select(d => d.Id).ToListAsync();
                await BulkAsync(db, "GpuHours", ids, hour - 7 * 24 * 3_600_000L, hour, 3_600_000);
                await BulkAsync(db, "GpuMinutes", ids, hour - 3 * 24 * 3_600_000L, hour, 60_000);
                await RawAsync(db, ids, TelemetryRollups.Ms(now) - 3_600_000, TelemetryRollups.Ms(now));
            }

            Console.WriteLine($"gpu queries: 64 GPUs with 7 days of hour rollups, 3 days of minute rollups and 1 h of raw readings written in {load.Elapsed.TotalSeconds:0.0} s");
            var queries = services.GetRequiredService<TelemetryQueries>();
            foreach (var (label, span) in new[] { ("7 days (hour rollups)", TimeSpan.FromDays(7)), ("24 hours (minute rollups)", TimeSpan.FromHours(24)), ("1 hour (raw readings)", TimeSpan.FromHours(1)) })
            {
                var times = new List<double>();
                Heatmap? map = null;
                for (var i = 0; i < 12; i++)
                {
                    var watch = Stopwatch.StartNew();
                    map = await queries.HeatmapAsync(now - span, now, new FleetFilter(), 168, CancellationToken.None);
                    times.Add(watch.Elapsed.TotalMilliseconds);
                }

                times.RemoveAt(0);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"fleet heatmap 64 GPUs × {label}: {map!.Devices.Count} × {map.Buckets.Count} cells, p50 {TrackingBenchmark.Percentile(times, 50):0.0} ms, max {times.Max():0.0} ms server time (goal ≤ 200 ms for 7 days)"));
            }

            await CostRollupAsync(services, factory, now);
            await StorageAsync(factory, Path.Combine(folder, "portal.db"));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    /// <summary>A year of use by 100 GPUs held by 400 runs of 40 people in 10 teams: the hourly usage ledger the cost roll-up reads.</summary>
    private static async Task CostRollupAsync(ServiceProvider services, IDbContextFactory<PortalDbContext> factory, DateTime now)
    {
        var hour = TelemetryRollups.Ms(now) / 3_600_000 * 3_600_000;
        var start = hour - 365L * 24 * 3_600_000;
        var watch = Stopwatch.StartNew();
        long rows = 0;
        await using (var db = await factory.CreateDbContextAsync())
        {
            for (var r = 0; r < 400; r++)
            {
                db.UsageOwners.Add(new UsageOwnerRow { Owner = $"run:bench{r:000}", Kind = UsageKind.Run, Label = $"run bench{r:000}", User = $"user{r % 40}@bench", Team = $"team-{r % 10}", Experiment = $"exp-{r % 25}", FirstSeen = now });
            }

            await db.SaveChangesAsync();
            await using var transaction = await db.Database.BeginTransactionAsync();
            var sql = new StringBuilder();
            for (var h = start; h < hour; h += 3_600_000)
            {
                sql.Clear().Append("""INSERT INTO "UsageHours" ("Start", "Owner", "Compute", "GpuSeconds", "BusyGpuSeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "ComputeSeconds") VALUES """);
                var week = (h - start) / (7 * 24 * 3_600_000L);
                for (var g = 0; g < 100; g++)
                {
                    // Each GPU is held by one run a week, so 100 owners an hour.
                    var owner = (g + week * 100) % 400;
                    sql.Append(g == 0 ? "(" : ",(").Append(h).Append(",'run:bench").Append(owner.ToString("000", CultureInfo.InvariantCulture)).Append("','Standard_ND96isr_H100_v5',3600,")
                        .Append(1800 + g * 10).Append(",3600,").Append(200_000_000).Append(',').Append(1_500_000).Append(",0)");
                    rows++;
                }

                await db.Database.ExecuteSqlRawAsync(sql.ToString());
            }

            // The daily ledger the worker keeps beside the hourly one.
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO "UsageDays" ("Start", "Owner", "Compute", "GpuSeconds", "BusyGpuSeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "ComputeSeconds")
                SELECT ("Start" / 86400000) * 86400000, "Owner", "Compute", SUM("GpuSeconds"), SUM("BusyGpuSeconds"), SUM("BusyKnownSeconds"), SUM("MemoryMiBSeconds"), SUM("EnergyJ"), SUM("ComputeSeconds")
                FROM "UsageHours" GROUP BY ("Start" / 86400000) * 86400000, "Owner", "Compute"
                """);
            await transaction.CommitAsync();
        }

        await using (var db = await factory.CreateDbContextAsync())
        {
            db.PriceCards.Add(PriceCard.Create(new PriceCardSpec("Standard_ND96isr_H100_v5", 98.32m, 8, "USD", new DateTime(2000, 1, 1, 0, 0, 0, DateTimeKind.Utc), null), "USD", [], Portal.Domain.Common.Actor.System, TimeProvider.System));
            await db.SaveChangesAsync();
        }

        Console.WriteLine($"cost roll-up: a year for 100 GPUs = {rows:N0} usage-hour rows (and their daily sums) written in {watch.Elapsed.TotalSeconds:0.0} s");
        var reports = services.GetRequiredService<CostReports>();
        var times = new List<double>();
        CostReport? report = null;
        for (var i = 0; i < 6; i++)
        {
            var one = Stopwatch.StartNew();
            report = await reports.ReportAsync(CostGroup.Team, now.AddDays(-365), now, null, CancellationToken.None);
            times.Add(one.Elapsed.TotalMilliseconds);
        }

        times.RemoveAt(0);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"cost roll-up by team over a year of 100 GPUs: {report!.Rows.Count} teams, {report.Total:N0} USD, p50 {TrackingBenchmark.Percentile(times, 50):0} ms, max {times.Max():0} ms server time (goal ≤ 500 ms)"));
    }

    /// <summary>Bytes per stored raw reading, per minute and per hour rollup row (indexes included), and what a sample costs once only rollups remain.</summary>
    private static async Task StorageAsync(IDbContextFactory<PortalDbContext> factory, string file)
    {
        await using var db = await factory.CreateDbContextAsync();
        var raw = await db.GpuSamples.LongCountAsync();
        var minutes = await db.GpuMinutes.LongCountAsync();
        var hours = await db.GpuHours.LongCountAsync();

        // Each table's share of the file: its size after VACUUM, less the size once the table is emptied.
        async Task<long> FreedAsync(string table)
        {
            await db.Database.ExecuteSqlRawAsync("VACUUM");
            var before = new FileInfo(file).Length;
            var delete = $"DELETE FROM \"{table}\"";
            await db.Database.ExecuteSqlRawAsync(delete);
            await db.Database.ExecuteSqlRawAsync("VACUUM");
            return before - new FileInfo(file).Length;
        }

        var perRaw = await FreedAsync("GpuSamples") / (double)raw;
        var perMinute = await FreedAsync("GpuMinutes") / (double)minutes;
        var perHour = await FreedAsync("GpuHours") / (double)hours;

        // At one sample a second: raw kept 24 h, minute rollups 30 days, hour rollups for good.
        var steadyPerGpu = (86_400 * perRaw) + (30 * 1440 * perMinute) + (30 * 24 * perHour);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"storage (SQLite, indexes included): {perRaw:0.0} B per raw reading, {perMinute:0.0} B per minute rollup, {perHour:0.0} B per hour rollup; " +
            $"a GPU at 1 sample/s holds {steadyPerGpu / 1024 / 1024:0.0} MiB (24 h raw + 30 days of minutes + 30 days of hours) = {steadyPerGpu / (30 * 86_400.0):0.00} B per sample over 30 days, " +
            $"and {perHour / 3600:0.000} B per sample once only hour rollups remain"));
    }

    private static Task BulkAsync(PortalDbContext db, string table, IReadOnlyList<int> devices, long start, long end, long size) =>
        InsertRowsAsync(db, $"""INSERT INTO "{table}" ("DeviceId", "Bucket", "Owner", "Samples", "Seconds", "BusySeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "MaxTemperatureC", "MaxPowerW") VALUES """,
            from device in devices
            from b in Steps(start, end, size)
            select string.Create(CultureInfo.InvariantCulture, $"({device},{b},'run:x',{size / 1000},{size / 1000},{size / 1000 * ((device * 7 + b / size) % 100) / 100.0},{size / 1000},1000,1000,60,500)"));

    private static Task RawAsync(PortalDbContext db, IReadOnlyList<int> devices, long start, long end) =>
        InsertRowsAsync(db, """INSERT INTO "GpuSamples" ("DeviceId", "Time", "DurationMs", "BusyPermille", "MemoryUsedMiB", "PowerDeciW", "EnergyJ", "TemperatureC", "Owner") VALUES """,
            from device in devices
            from t in Steps(start, end, 1000)
            select string.Create(CultureInfo.InvariantCulture, $"({device},{t},1000,{(device * 13 + t / 1000) % 1001},52000,4100,410,55,'run:x')"));

    private static IEnumerable<long> Steps(long start, long end, long size)
    {
        for (var at = start; at < end; at += size)
        {
            yield return at;
        }
    }

    /// <summary>Rows written 500 to a statement, in one transaction.</summary>
    private static async Task InsertRowsAsync(PortalDbContext db, string insert, IEnumerable<string> rows)
    {
        await using var transaction = await db.Database.BeginTransactionAsync();
        foreach (var chunk in rows.Chunk(500))
        {
            var statement = insert + string.Join(',', chunk);
            await db.Database.ExecuteSqlRawAsync(statement);
        }

        await transaction.CommitAsync();
    }
}
