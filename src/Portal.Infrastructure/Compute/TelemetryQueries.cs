using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>Narrows fleet views to a host or a compute kind.</summary>
public sealed record FleetFilter(string? Host = null, string? Compute = null);

/// <summary>One GPU as the fleet table shows it: its newest reading and who holds it.</summary>
public sealed record DeviceRow(GpuDevice Device, string? OwnerLabel, string? Team, bool Stale);

/// <summary>Busy share per device (rows) and time bucket (columns); null where there was no reading.</summary>
public sealed record Heatmap(IReadOnlyList<GpuDevice> Devices, IReadOnlyList<DateTime> Buckets, double?[][] Busy, string Resolution);

/// <summary>One device over time: busy share, memory used and power, averaged per bucket.</summary>
public sealed record DeviceTimeline(GpuDevice Device, IReadOnlyList<DateTime> Buckets, double?[] Busy, double?[] MemoryMiB, double?[] PowerW, string Resolution);

/// <summary>An idle stretch with who held the GPU, its idle time within the period and what that cost.</summary>
public sealed record IdleRow(IdleStretch Stretch, string Device, string OwnerLabel, string? User, string? Team, double Minutes, double IdleSecondsInPeriod, decimal Cost);

/// <summary>A run's GPU use for its GPU panel: from telemetry, or from the MLflow system metrics it logged.</summary>
public sealed record RunGpuUsage(string Source, int Gpus, double GpuHours, double? Efficiency, double? MeanMemoryMiB, double EnergyKWh, double ComputeHours, decimal? Cost,
    string Currency, IReadOnlyList<string> Devices, IReadOnlyList<DateTime> Times, IReadOnlyList<double?> Busy)
{
    public bool HasData => GpuHours > 0 || ComputeHours > 0 || Times.Count > 0;
}

/// <summary>What the Compute &amp; GPU page shows, read from the rollup that suits the period (raw, minute or hour).</summary>
public sealed class TelemetryQueries(IDbContextFactory<PortalDbContext> dbFactory, CostReports reports, IOptions<PortalOptions> options, TimeProvider time)
{
    private const long Minute = 60_000;
    private const long Hour = 3_600_000;

    public async Task<IReadOnlyList<string>> HostsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.GpuDevices.AsNoTracking().Select(d => d.Host).Distinct().OrderBy(h => h).ToListAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<string>> ComputesAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var fromDevices = await db.GpuDevices.AsNoTracking().Select(d => d.Compute).Distinct().ToListAsync(cancellationToken);
        var fromUsage = await db.UsageHours.AsNoTracking().Select(u => u.Compute).Distinct().ToListAsync(cancellationToken);
        return fromDevices.Concat(fromUsage).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public async Task<IReadOnlyList<DeviceRow>> FleetAsync(FleetFilter filter, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var devices = await Devices(db, filter).ToListAsync(cancellationToken);
        var owners = await reports.OwnersAsync(db, devices.Select(d => d.LastOwner), cancellationToken);
        var staleBefore = time.GetUtcNow().UtcDateTime.AddSeconds(-Math.Max(3 * options.Value.Telemetry.MaxGapSeconds, 120));
        return devices.Select(d =>
        {
            owners.TryGetValue(d.LastOwner, out var o);
            return new DeviceRow(d, o?.Label ?? (d.LastOwner.Length > 0 ? d.LastOwner : null), o?.Team, d.LastSeen < staleBefore);
        }).ToList();
    }

    private static IQueryable<GpuDevice> Devices(PortalDbContext db, FleetFilter filter)
    {
        var devices = db.GpuDevices.AsNoTracking();
        if (filter.Host is { Length: > 0 } host)
        {
            devices = devices.Where(d => d.Host == host);
        }

        if (filter.Compute is { Length: > 0 } compute)
        {
            devices = devices.Where(d => d.Compute == compute);
        }

        return devices.OrderBy(d => d.Host).ThenBy(d => d.Index).ThenBy(d => d.DeviceKey);
    }

    /// <summary>
    /// The resolution for a period: raw readings up to 3 hours, minute rollups up to 3 days (and 30), hour
    /// rollups beyond; buckets widen so there are at most <paramref name="maxColumns"/>.
    /// </summary>
    private (string Tier, long Size) Resolution(DateTime from, DateTime to, int maxColumns)
    {
        var span = (long)(to - from).TotalMilliseconds;
        var now = time.GetUtcNow().UtcDateTime;
        var rawKept = now.AddHours(-options.Value.Telemetry.RawRetentionHours);
        var minutesKept = now.AddDays(-options.Value.Telemetry.MinuteRetentionDays);
        var tier = span <= 3 * Hour && from >= rawKept ? "raw" : span <= 3 * 24 * Hour && from >= minutesKept ? "minute" : "hour";
        var unit = tier switch { "raw" => 1000L, "minute" => Minute, _ => Hour };
        var size = Math.Max(unit, (span / Math.Max(maxColumns, 1) + unit - 1) / unit * unit);
        return (tier, size);
    }

    private sealed record Cell(int DeviceId, long Bucket, double Seconds, double Busy, double Known, double Memory, double Energy);

    private static async Task<List<Cell>> CellsAsync(PortalDbContext db, string tier, long size, long fromMs, long toMs, IReadOnlyCollection<int> deviceIds, CancellationToken cancellationToken)
    {
        if (tier == "raw")
        {
            return await db.GpuSamples.AsNoTracking().Where(s => s.Time >= fromMs && s.Time < toMs && deviceIds.Contains(s.DeviceId))
                .GroupBy(s => new { s.DeviceId, B = s.Time / size })
                .Select(g => new Cell(g.Key.DeviceId, g.Key.B * size, g.Sum(s => s.DurationMs) / 1000.0,
                    g.Sum(s => (s.BusyPermille ?? 0) * (double)s.DurationMs) / 1_000_000.0,
                    g.Sum(s => s.BusyPermille == null ? 0 : s.DurationMs) / 1000.0,
                    g.Sum(s => (s.MemoryUsedMiB ?? 0) * (double)s.DurationMs) / 1000.0,
                    g.Sum(s => (double)(s.EnergyJ ?? 0))))
                .ToListAsync(cancellationToken);
        }

        return tier == "minute"
            ? await Rolled(db.GpuMinutes.AsNoTracking(), size, fromMs, toMs, deviceIds, cancellationToken)
            : await Rolled(db.GpuHours.AsNoTracking(), size, fromMs, toMs, deviceIds, cancellationToken);
    }

    private static Task<List<Cell>> Rolled<T>(IQueryable<T> rollups, long size, long fromMs, long toMs, IReadOnlyCollection<int> deviceIds, CancellationToken cancellationToken)
        where T : GpuRollup =>
        rollups.Where(r => r.Bucket >= fromMs && r.Bucket < toMs && deviceIds.Contains(r.DeviceId))
            .GroupBy(r => new { r.DeviceId, B = r.Bucket / size })
            .Select(g => new Cell(g.Key.DeviceId, g.Key.B * size, g.Sum(r => r.Seconds), g.Sum(r => r.BusySeconds), g.Sum(r => r.BusyKnownSeconds), g.Sum(r => r.MemoryMiBSeconds), g.Sum(r => r.EnergyJ)))
            .ToListAsync(cancellationToken);

    public async Task<Heatmap> HeatmapAsync(DateTime from, DateTime to, FleetFilter filter, int maxColumns, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var devices = await Devices(db, filter).ToListAsync(cancellationToken);
        var (tier, size) = Resolution(from, to, maxColumns);
        var first = TelemetryRollups.Ms(from) / size * size;
        var toMs = TelemetryRollups.Ms(to);
        var count = (int)Math.Max(1, (toMs - first + size - 1) / size);
        var cells = await CellsAsync(db, tier, size, first, toMs, devices.Select(d => d.Id).ToList(), cancellationToken);
        var row = devices.Select((d, i) => (d.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var busy = devices.Select(_ => new double?[count]).ToArray();
        foreach (var c in cells)
        {
            var column = (int)((c.Bucket - first) / size);
            if (column >= 0 && column < count && c.Known > 0)
            {
                busy[row[c.DeviceId]][column] = Math.Round(Math.Clamp(c.Busy / c.Known, 0, 1) * 100, 1);
            }
        }

        return new Heatmap(devices, Enumerable.Range(0, count).Select(i => TelemetryRollups.FromMs(first + i * size)).ToList(), busy, Describe(tier, size));
    }

    public async Task<DeviceTimeline?> TimelineAsync(int deviceId, DateTime from, DateTime to, int maxPoints, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var device = await db.GpuDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == deviceId, cancellationToken);
        if (device is null)
        {
            return null;
        }

        var (tier, size) = Resolution(from, to, maxPoints);
        var first = TelemetryRollups.Ms(from) / size * size;
        var toMs = TelemetryRollups.Ms(to);
        var count = (int)Math.Max(1, (toMs - first + size - 1) / size);
        var cells = (await CellsAsync(db, tier, size, first, toMs, [deviceId], cancellationToken)).ToDictionary(c => (int)((c.Bucket - first) / size));
        double? Of(int i, Func<Cell, double?> f) => cells.TryGetValue(i, out var c) ? f(c) : null;
        return new DeviceTimeline(device, Enumerable.Range(0, count).Select(i => TelemetryRollups.FromMs(first + i * size)).ToList(),
            Enumerable.Range(0, count).Select(i => Of(i, c => c.Known > 0 ? Math.Round(c.Busy / c.Known * 100, 1) : null)).ToArray(),
            Enumerable.Range(0, count).Select(i => Of(i, c => c.Seconds > 0 ? Math.Round(c.Memory / c.Seconds) : null)).ToArray(),
            Enumerable.Range(0, count).Select(i => Of(i, c => c.Seconds > 0 ? Math.Round(c.Energy / c.Seconds, 1) : null)).ToArray(),
            Describe(tier, size));
    }

    /// <summary>Idle stretches in the period, flagged ones (waste) first, newest first.</summary>
    public async Task<IReadOnlyList<IdleRow>> IdleAsync(DateTime from, DateTime to, string? team, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var stretches = await db.IdleStretches.AsNoTracking().Where(s => s.StartedAt < to && s.LastMinute >= from && (s.Flagged || !s.Ended))
            .OrderByDescending(s => s.StartedAt).Take(500).ToListAsync(cancellationToken);
        var devices = await db.GpuDevices.AsNoTracking().Where(d => stretches.Select(s => s.DeviceId).Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        var owners = await reports.OwnersAsync(db, stretches.Select(s => s.Owner), cancellationToken);
        var cards = await db.PriceCards.AsNoTracking().ToListAsync(cancellationToken);
        return stretches.Select(s =>
        {
            owners.TryGetValue(s.Owner, out var o);
            var device = devices.GetValueOrDefault(s.DeviceId);
            var card = cards.FirstOrDefault(c => device is not null && string.Equals(c.Compute, device.Compute, StringComparison.OrdinalIgnoreCase) && c.Covers(s.StartedAt));
            var within = s.IdleSecondsWithin(from, to);
            var cost = card is null ? 0m : Math.Round((decimal)(within / 3600) * (card.PricePerGpuHour ?? card.PricePerHour), 2);
            return new IdleRow(s, device?.Label ?? $"device {s.DeviceId}", o?.Label ?? s.Owner, o?.User, o?.Team, (s.LastMinute.AddMinutes(1) - s.StartedAt).TotalMinutes, within, cost);
        })
        .Where(r => team is null || string.Equals(r.Team ?? CostReports.NoTeam, team, StringComparison.OrdinalIgnoreCase))
        .OrderByDescending(r => r.Stretch.Flagged).ThenByDescending(r => r.Stretch.StartedAt)
        .ToList();
    }

    /// <summary>
    /// A run's GPU use: from telemetry attributed to it; when none covers it, from the MLflow system metrics it
    /// logged (<c>system/gpu_N_utilization_percentage</c>, <c>system/gpu_N_memory_usage_megabytes</c>, <c>system/gpu_N_power_usage_watts</c>).
    /// </summary>
    public async Task<RunGpuUsage> RunUsageAsync(string runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var key = UsageOwner.Run(runId).Key;
        var currency = reports.Currency;
        var usage = await db.UsageHours.AsNoTracking().Where(u => u.Owner == key).ToListAsync(cancellationToken);
        if (usage.Count > 0)
        {
            var from = TelemetryRollups.FromMs(usage.Min(u => u.Start));
            var to = TelemetryRollups.FromMs(usage.Max(u => u.Start) + Hour);
            var report = await reports.ReportAsync(CostGroup.Owner, from, to, new CostFilter(Owner: key), cancellationToken);
            // The busy line is summed per minute in the database: a week on 8 GPUs is 80,000 rollup rows.
            var deviceIds = await db.GpuMinutes.AsNoTracking().Where(m => m.Owner == key).Select(m => m.DeviceId).Distinct().ToListAsync(cancellationToken);
            var devices = await db.GpuDevices.AsNoTracking().Where(d => deviceIds.Contains(d.Id)).OrderBy(d => d.Host).ThenBy(d => d.Index).ToListAsync(cancellationToken);
            var series = (await db.GpuMinutes.AsNoTracking().Where(m => m.Owner == key).GroupBy(m => m.Bucket)
                    .Select(g => new { Bucket = g.Key, Busy = g.Sum(m => m.BusySeconds), Known = g.Sum(m => m.BusyKnownSeconds) })
                    .OrderBy(x => x.Bucket).ToListAsync(cancellationToken))
                .Select(x => (Time: TelemetryRollups.FromMs(x.Bucket), Busy: x.Known > 0 ? Math.Round(x.Busy / x.Known * 100, 1) : (double?)null))
                .ToList();
            var gpuSeconds = usage.Sum(u => u.GpuSeconds);
            return new RunGpuUsage("telemetry", devices.Count, gpuSeconds / 3600, CostMath.Efficiency(usage.Sum(u => u.BusyGpuSeconds), usage.Sum(u => u.BusyKnownSeconds)),
                gpuSeconds > 0 ? usage.Sum(u => u.MemoryMiBSeconds) / gpuSeconds : null, usage.Sum(u => u.EnergyJ) / 3_600_000, usage.Sum(u => u.ComputeSeconds) / 3600,
                report.Rows.FirstOrDefault()?.Cost, currency, devices.Select(d => d.Label).ToList(), series.Select(s => s.Time).ToList(), series.Select(s => s.Busy).ToList());
        }

        // No telemetry covers it: what MLflow's system metrics logger recorded, if anything.
        var points = await db.MetricPoints.AsNoTracking().Where(p => p.RunId == runId && p.Key.StartsWith("system/gpu_") && !p.IsNan).ToListAsync(cancellationToken);
        var utilisation = points.Where(p => p.Key.EndsWith("_utilization_percentage", StringComparison.Ordinal)).ToList();
        if (utilisation.Count == 0)
        {
            return new RunGpuUsage("none", 0, 0, null, null, 0, 0, null, currency, [], [], []);
        }

        var gpus = utilisation.Select(p => p.Key).Distinct(StringComparer.Ordinal).Count();
        var start = utilisation.Min(p => p.Timestamp);
        var end = utilisation.Max(p => p.Timestamp);
        var hours = gpus * Math.Max(end - start, 0) / 3_600_000.0;
        var memory = points.Where(p => p.Key.EndsWith("_memory_usage_megabytes", StringComparison.Ordinal)).Select(p => p.Value).DefaultIfEmpty().Average();
        var power = points.Where(p => p.Key.EndsWith("_power_usage_watts", StringComparison.Ordinal)).Select(p => p.Value).ToList();
        var byTime = utilisation.GroupBy(p => p.Timestamp / Minute * Minute).OrderBy(g => g.Key).ToList();
        return new RunGpuUsage("mlflow system metrics", gpus, hours, Math.Clamp(utilisation.Average(p => p.Value) / 100, 0, 1), memory > 0 ? memory : null,
            power.Count > 0 ? power.Average() * gpus * Math.Max(end - start, 0) / 1000.0 / 3_600_000 : 0, 0, null, currency,
            utilisation.Select(p => p.Key["system/".Length..p.Key.IndexOf("_utilization", StringComparison.Ordinal)]).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            byTime.Select(g => TelemetryRollups.FromMs(g.Key)).ToList(), byTime.Select(g => (double?)Math.Round(g.Average(p => p.Value), 1)).ToList());
    }

    private static string Describe(string tier, long size) => (tier, size) switch
    {
        ("raw", < Minute) => $"raw readings, {size / 1000} s buckets",
        ("raw", _) => $"raw readings, {size / Minute} min buckets",
        ("minute", < Hour) => $"1-minute rollups, {size / Minute} min buckets",
        ("minute", _) => $"1-minute rollups, {size / Hour} h buckets",
        (_, < 86_400_000) => $"1-hour rollups, {size / Hour} h buckets",
        _ => $"1-hour rollups, {size / 86_400_000} day buckets",
    };
}
