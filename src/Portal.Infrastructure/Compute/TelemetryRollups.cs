using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Portal.Domain.Compute;
using Portal.Domain.Jobs;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Turns raw readings into the 1-minute and 1-hour rollups and the hourly and daily usage per owner, by adding: each
/// pass takes the readings stored since the last (by id, so readings that arrive late still count), adds their
/// sums to the buckets they fall in, and moves the cursor, all in one transaction. Then it drops what is past
/// its retention. It also adds the compute time of live jobs and model servers, measured from their processes.
/// </summary>
public sealed class TelemetryRollups(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> options, UsageAttribution attribution, TimeProvider time)
{
    internal const string SampleCursor = "samples";
    private const string ComputeCursor = "compute";

    /// <summary>Rolls up what arrived since the last pass; returns how many readings it took.</summary>
    public async Task<long> RollUpAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var from = await CursorAsync(db, SampleCursor, cancellationToken);
        var to = await db.GpuSamples.MaxAsync(s => (long?)s.Id, cancellationToken) ?? 0;
        if (to <= from)
        {
            return 0;
        }

        // The new readings are summed per device, minute and owner once; every rollup and ledger is built from those sums.
        var postgres = db.Database.IsNpgsql();
        await db.Database.ExecuteSqlRawAsync("DROP TABLE IF EXISTS pending_minutes", cancellationToken);
        var pending = $"""
            -- Products in 64 bits: 80 GiB × 60 s in milliseconds does not fit PostgreSQL's integer.
            CREATE TEMP TABLE pending_minutes AS
            SELECT s."DeviceId" AS device, (s."Time" / 60000) * 60000 AS bucket, s."Owner" AS owner, d."Compute" AS compute, COUNT(*) AS samples,
              SUM(s."DurationMs") / 1000.0 AS seconds,
              SUM(COALESCE(s."BusyPermille", 0) * CAST(s."DurationMs" AS BIGINT)) / 1000000.0 AS busy,
              SUM(CASE WHEN s."BusyPermille" IS NULL THEN 0 ELSE s."DurationMs" END) / 1000.0 AS known,
              SUM(COALESCE(s."MemoryUsedMiB", 0) * CAST(s."DurationMs" AS BIGINT)) / 1000.0 AS memory,
              SUM(COALESCE(s."EnergyJ", 0)) * 1.0 AS energy,
              MAX(s."TemperatureC") * 1.0 AS temperature, MAX(s."PowerDeciW") / 10.0 AS power
            FROM "GpuSamples" s JOIN "GpuDevices" d ON d."Id" = s."DeviceId"
            WHERE s."Id" > {from} AND s."Id" <= {to}
            GROUP BY s."DeviceId", (s."Time" / 60000) * 60000, s."Owner", d."Compute"
            """;
        await db.Database.ExecuteSqlRawAsync(pending, cancellationToken);
        string Greatest(string table, string column) => postgres
            ? $"GREATEST(\"{table}\".\"{column}\", excluded.\"{column}\")"
            : $"MAX(COALESCE(\"{table}\".\"{column}\", excluded.\"{column}\"), COALESCE(excluded.\"{column}\", \"{table}\".\"{column}\"))";
        foreach (var (table, size) in new[] { ("GpuMinutes", 60_000L), ("GpuHours", 3_600_000L) })
        {
            var rollup = $"""
                INSERT INTO "{table}" ("DeviceId", "Bucket", "Owner", "Samples", "Seconds", "BusySeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "MaxTemperatureC", "MaxPowerW")
                SELECT device, (bucket / {size}) * {size}, owner, SUM(samples), SUM(seconds), SUM(busy), SUM(known), SUM(memory), SUM(energy), MAX(temperature), MAX(power)
                FROM pending_minutes WHERE TRUE
                GROUP BY device, (bucket / {size}) * {size}, owner
                ON CONFLICT ("DeviceId", "Bucket", "Owner") DO UPDATE SET
                  "Samples" = "{table}"."Samples" + excluded."Samples",
                  "Seconds" = "{table}"."Seconds" + excluded."Seconds",
                  "BusySeconds" = "{table}"."BusySeconds" + excluded."BusySeconds",
                  "BusyKnownSeconds" = "{table}"."BusyKnownSeconds" + excluded."BusyKnownSeconds",
                  "MemoryMiBSeconds" = "{table}"."MemoryMiBSeconds" + excluded."MemoryMiBSeconds",
                  "EnergyJ" = "{table}"."EnergyJ" + excluded."EnergyJ",
                  "MaxTemperatureC" = {Greatest(table, "MaxTemperatureC")},
                  "MaxPowerW" = {Greatest(table, "MaxPowerW")}
                """;
            await db.Database.ExecuteSqlRawAsync(rollup, cancellationToken);
        }

        foreach (var (table, size) in new[] { ("UsageHours", 3_600_000L), ("UsageDays", 86_400_000L) })
        {
            var usage = $"""
                INSERT INTO "{table}" ("Start", "Owner", "Compute", "GpuSeconds", "BusyGpuSeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "ComputeSeconds")
                SELECT (bucket / {size}) * {size}, owner, compute, SUM(seconds), SUM(busy), SUM(known), SUM(memory), SUM(energy), 0
                FROM pending_minutes WHERE TRUE
                GROUP BY (bucket / {size}) * {size}, owner, compute
                ON CONFLICT ("Start", "Owner", "Compute") DO UPDATE SET
                  "GpuSeconds" = "{table}"."GpuSeconds" + excluded."GpuSeconds",
                  "BusyGpuSeconds" = "{table}"."BusyGpuSeconds" + excluded."BusyGpuSeconds",
                  "BusyKnownSeconds" = "{table}"."BusyKnownSeconds" + excluded."BusyKnownSeconds",
                  "MemoryMiBSeconds" = "{table}"."MemoryMiBSeconds" + excluded."MemoryMiBSeconds",
                  "EnergyJ" = "{table}"."EnergyJ" + excluded."EnergyJ"
                """;
            await db.Database.ExecuteSqlRawAsync(usage, cancellationToken);
        }

        await db.Database.ExecuteSqlRawAsync("DROP TABLE pending_minutes", cancellationToken);
        await SetCursorAsync(db, SampleCursor, to, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return to - from;
    }

    /// <summary>Drops raw readings and minute rollups past their retention (only what has been rolled up).</summary>
    public async Task<(int Raw, int Minutes)> ApplyRetentionAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Telemetry;
        var now = time.GetUtcNow().UtcDateTime;
        var rawBefore = Ms(now.AddHours(-settings.RawRetentionHours));
        var minutesBefore = Ms(now.AddDays(-settings.MinuteRetentionDays));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rolled = await CursorAsync(db, SampleCursor, cancellationToken);
        var raw = await db.GpuSamples.Where(s => s.Time < rawBefore && s.Id <= rolled).ExecuteDeleteAsync(cancellationToken);
        var minutes = await db.GpuMinutes.Where(m => m.Bucket < minutesBefore).ExecuteDeleteAsync(cancellationToken);
        return (raw, minutes);
    }

    /// <summary>
    /// Adds the time since the last pass to every live job and model server (their compute time); a gap longer
    /// than two passes (the portal was down) is not counted.
    /// </summary>
    public async Task SampleComputeAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var nowMs = Ms(now);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var last = await CursorAsync(db, ComputeCursor, cancellationToken);
        var maxGap = (long)(options.Value.Telemetry.RollupIntervalSeconds * 2000) + 5000;
        var elapsed = last == 0 ? 0 : Math.Min(nowMs - last, maxGap);
        await SetCursorAsync(db, ComputeCursor, nowMs, cancellationToken);
        var live = new List<(UsageOwner Owner, string Compute)>();
        foreach (var job in await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Running && j.ProcessId != null).ToListAsync(cancellationToken))
        {
            if (ProcessGroup.IsAlive(job.ProcessId!.Value, job.ProcessStartedAt))
            {
                live.Add((UsageOwner.Run(job.RunId), job.Compute));
            }
        }

        foreach (var instance in await db.ModelServerInstances.AsNoTracking().Where(i => i.Pid != null).ToListAsync(cancellationToken))
        {
            if (ProcessGroup.IsAlive(instance.Pid!.Value, instance.ProcessStartedAt))
            {
                live.Add((UsageOwner.ForDeployment(instance.Endpoint, instance.Deployment), options.Value.Telemetry.Compute));
            }
        }

        if (elapsed > 0 && live.Count > 0)
        {
            await AddComputeSecondsAsync(db, live.Select(l => (l.Owner, l.Compute, now, elapsed / 1000.0)), cancellationToken);
        }

        await attribution.RememberAsync(db, live.Select(l => l.Owner), cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Adds compute seconds to owners' hours (also used by the demo to show CPU-only work).</summary>
    internal static async Task AddComputeSecondsAsync(PortalDbContext db, IEnumerable<(UsageOwner Owner, string Compute, DateTime At, double Seconds)> usage, CancellationToken cancellationToken)
    {
        foreach (var (owner, compute, at, seconds) in usage)
        {
            var hour = Ms(at) / 3_600_000 * 3_600_000;
            var day = Ms(at) / 86_400_000 * 86_400_000;
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO "UsageHours" ("Start", "Owner", "Compute", "GpuSeconds", "BusyGpuSeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "ComputeSeconds")
                VALUES ({0}, {1}, {2}, 0, 0, 0, 0, 0, {3})
                ON CONFLICT ("Start", "Owner", "Compute") DO UPDATE SET "ComputeSeconds" = "UsageHours"."ComputeSeconds" + excluded."ComputeSeconds"
                """, [hour, owner.Key, compute, seconds], cancellationToken);
            await db.Database.ExecuteSqlRawAsync("""
                INSERT INTO "UsageDays" ("Start", "Owner", "Compute", "GpuSeconds", "BusyGpuSeconds", "BusyKnownSeconds", "MemoryMiBSeconds", "EnergyJ", "ComputeSeconds")
                VALUES ({0}, {1}, {2}, 0, 0, 0, 0, 0, {3})
                ON CONFLICT ("Start", "Owner", "Compute") DO UPDATE SET "ComputeSeconds" = "UsageDays"."ComputeSeconds" + excluded."ComputeSeconds"
                """, [day, owner.Key, compute, seconds], cancellationToken);
        }
    }

    internal static async Task<long> CursorAsync(PortalDbContext db, string name, CancellationToken cancellationToken) =>
        await db.TelemetryCursors.AsNoTracking().Where(c => c.Name == name).Select(c => (long?)c.Value).FirstOrDefaultAsync(cancellationToken) ?? 0;

    internal static async Task SetCursorAsync(PortalDbContext db, string name, long value, CancellationToken cancellationToken)
    {
        var updated = await db.TelemetryCursors.Where(c => c.Name == name).ExecuteUpdateAsync(s => s.SetProperty(c => c.Value, value), cancellationToken);
        if (updated == 0)
        {
            await db.Database.ExecuteSqlRawAsync("""INSERT INTO "TelemetryCursors" ("Name", "Value") VALUES ({0}, {1})""", [name, value], cancellationToken);
        }
    }

    internal static long Ms(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalMilliseconds;

    internal static DateTime FromMs(long ms) => DateTime.UnixEpoch.AddMilliseconds(ms);
}
