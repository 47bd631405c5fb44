using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>How a batch is to be taken in.</summary>
/// <param name="Compute">The compute kind of the batch's hosts; null: from <c>Portal:Telemetry:HostCompute</c>.</param>
/// <param name="NominalInterval">What a device's first reading stands for (the source's sampling interval).</param>
/// <param name="Simulated">Readings from the demo's simulated fleet.</param>
/// <param name="LocalProcesses">The batch comes from this machine, so process ids in it are ours to look up.</param>
public sealed record IngestSettings(string? Compute = null, TimeSpan? NominalInterval = null, bool Simulated = false, bool LocalProcesses = false);

/// <summary>What an ingest did: readings stored, duplicates skipped (already stored), devices seen for the first time.</summary>
public sealed record IngestResult(int Stored, int Skipped, int NewDevices, IReadOnlyList<string> Hosts);

/// <summary>Readings of some hosts were stored (for live dashboards; coalesced by subscribers).</summary>
public sealed record GpuTelemetryIngested(string Host, int Stored, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"gpu:{Host}";
}

/// <summary>
/// The one ingestion path for GPU readings, whatever their source: checks a batch whole (a body is stored or
/// refused whole, every problem named with its line and field), attributes each reading to a run or a
/// deployment, works out how long each stands for and the energy used, and stores it compactly.
/// </summary>
public sealed partial class TelemetryIngestor(
    IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> options, UsageAttribution attribution, IEventBus bus, TimeProvider time)
{
    private const int RowsPerStatement = 400;

    /// <summary>A device's row is rewritten at most this often (its readings are stored every time).</summary>
    private static readonly TimeSpan DeviceRowEvery = TimeSpan.FromSeconds(5);

    private readonly SemaphoreSlim _writing = new(1, 1);
    private readonly Dictionary<(string Host, string Key), GpuDevice> _devices = [];
    private readonly Dictionary<int, DateTime> _persisted = [];
    private readonly HashSet<string> _loadedHosts = new(StringComparer.Ordinal);

    private TelemetryOptions Settings => options.Value.Telemetry;

    /// <summary>
    /// Loads a host's devices into the cache the first time it is seen, with the time of each one's newest stored
    /// reading (the device row may be a few seconds behind it).
    /// </summary>
    private async Task LoadHostsAsync(PortalDbContext db, IReadOnlyList<string> hosts, CancellationToken cancellationToken)
    {
        var missing = hosts.Where(h => !_loadedHosts.Contains(h)).ToList();
        if (missing.Count == 0)
        {
            return;
        }

        var devices = await db.GpuDevices.AsNoTracking().Where(d => missing.Contains(d.Host)).ToListAsync(cancellationToken);
        var ids = devices.Select(d => d.Id).ToList();
        var newest = await db.GpuSamples.AsNoTracking().Where(s => ids.Contains(s.DeviceId)).GroupBy(s => s.DeviceId)
            .Select(g => new { g.Key, Time = g.Max(s => s.Time) }).ToDictionaryAsync(x => x.Key, x => x.Time, cancellationToken);
        foreach (var device in devices)
        {
            device.LastSampleMs = Math.Max(device.LastSampleMs, newest.GetValueOrDefault(device.Id));
            _devices[(device.Host, device.DeviceKey)] = device;
        }

        _loadedHosts.UnionWith(missing);
    }

    [GeneratedRegex(@"^(GPU|MIG)-[0-9A-Za-z\-]{4,90}\z")]
    private static partial Regex UuidPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9.\-_]{0,252}\z")]
    private static partial Regex HostPattern();

    public static string? HostProblem(string? host) =>
        host is not null && HostPattern().IsMatch(host) ? null : $"host: '{Names.Visible(host)}' is not a host name (letters, digits, '.', '-', '_').";

    public async Task<IngestResult> IngestAsync(TelemetryBatch batch, IngestSettings settings, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(settings);
        var now = time.GetUtcNow().UtcDateTime;
        var errors = new FieldErrors();
        if (HostProblem(batch.Host) is { } hostProblem)
        {
            throw new InvalidInputException("host", hostProblem);
        }

        Check(batch, now, errors);
        var hosts = batch.Readings.Select(r => r.Host ?? batch.Host).Distinct(StringComparer.Ordinal).ToList();
        foreach (var host in hosts.Where(h => HostProblem(h) is not null))
        {
            errors.Add("Hostname", $"Hostname: '{Names.Visible(host)}' is not a host name.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        // One writer at a time: the device cache decides which readings are new, so two writers must not interleave.
        await _writing.WaitAsync(cancellationToken);
        var stored = new List<(GpuDevice Device, GpuReading Reading, int DurationMs, double? EnergyJ, string Owner)>();
        var skipped = 0;
        var newDevices = 0;
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            await LoadHostsAsync(db, hosts, cancellationToken);
            if (!Settings.AcceptNewDevices)
            {
                foreach (var unknown in batch.Readings.Where(r => !_devices.ContainsKey((r.Host ?? batch.Host, r.DeviceKey))))
                {
                    errors.Add("uuid", $"line {unknown.Line}, uuid: {Names.Visible(unknown.Uuid)} is not a GPU the portal knows on {unknown.Host ?? batch.Host}, and Portal:Telemetry:AcceptNewDevices is off.");
                }

                if (!errors.IsEmpty)
                {
                    throw new InvalidInputException(errors);
                }
            }

            var owners = await OwnersAsync(db, batch, settings, cancellationToken);
            var nominal = (int)(settings.NominalInterval ?? TimeSpan.FromSeconds(1)).TotalMilliseconds;
            var maxGap = (int)(Settings.MaxGapSeconds * 1000);
            var changed = new List<GpuDevice>();
            foreach (var group in batch.Readings.GroupBy(r => (Host: r.Host ?? batch.Host, r.DeviceKey)))
            {
                if (!_devices.TryGetValue(group.Key, out var device))
                {
                    var first = group.First();
                    device = new GpuDevice
                    {
                        Host = group.Key.Host,
                        DeviceKey = group.Key.DeviceKey,
                        Uuid = first.Uuid,
                        MigProfile = first.MigProfile,
                        Compute = settings.Compute ?? Settings.ComputeOf(group.Key.Host),
                        Simulated = settings.Simulated,
                        FirstSeen = now,
                    };
                    db.GpuDevices.Add(device);
                    newDevices++;
                }

                var ownerBefore = device.LastOwner;
                foreach (var reading in group.OrderBy(r => r.Time))
                {
                    var at = ToMs(reading.Time);
                    if (at <= device.LastSampleMs)
                    {
                        // Already stored (a body sent twice, an overlapping scrape): counting it again would double the usage.
                        skipped++;
                        continue;
                    }

                    var duration = device.LastSampleMs == 0 ? nominal : (int)Math.Min(at - device.LastSampleMs, maxGap);
                    double? energy = reading.PowerW is { } watts ? watts * duration / 1000
                        : reading.EnergyCounterJ is { } counter && device.LastEnergyCounterJ is { } before && counter >= before ? counter - before : null;
                    var owner = owners.TryGetValue(reading, out var o) ? o.Key : "";
                    stored.Add((device, reading, duration, energy, owner));
                    device.LastSampleMs = at;
                    device.LastEnergyCounterJ = reading.EnergyCounterJ ?? device.LastEnergyCounterJ;
                    device.LastOwner = owner;
                    device.LastBusy = reading.Busy;
                    device.LastMemoryUsedMiB = reading.MemoryUsedMiB;
                    device.LastPowerW = reading.PowerW;
                    device.LastTemperatureC = reading.TemperatureC;
                    device.LastSeen = now;
                    device.Index = reading.Index ?? device.Index;
                    device.Name = reading.Name ?? device.Name;
                    device.MemoryTotalMiB = reading.MemoryTotalMiB ?? device.MemoryTotalMiB;
                    device.MigProfile = reading.MigProfile ?? device.MigProfile;
                }

                // The device row (newest values for the fleet table) is written every few seconds, or at once when its holder changes.
                if (device.Id != 0 && (device.LastOwner != ownerBefore || !_persisted.TryGetValue(device.Id, out var persisted) || now - persisted >= DeviceRowEvery))
                {
                    changed.Add(device);
                }
            }

            await attribution.RememberAsync(db, owners.Values.Distinct(), cancellationToken);
            foreach (var device in changed)
            {
                db.GpuDevices.Update(device);
            }

            var rows = stored.Select(s => (s.Device, s.Reading, s.DurationMs, s.EnergyJ, s.Owner)).ToList();
            if (!db.ChangeTracker.HasChanges() && rows.Count <= RowsPerStatement)
            {
                // Most bodies: one multi-row INSERT, atomic by itself.
                await InsertAsync(db, rows, cancellationToken);
            }
            else
            {
                await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
                await InsertAsync(db, rows, cancellationToken);
                await transaction.CommitAsync(cancellationToken);
            }

            foreach (var device in changed.Concat(db.ChangeTracker.Entries<GpuDevice>().Select(e => e.Entity)).Distinct())
            {
                _devices[(device.Host, device.DeviceKey)] = device;
                _persisted[device.Id] = now;
            }
        }
        catch
        {
            // What the cache holds may now be ahead of the database: read it again next time.
            _devices.Clear();
            _loadedHosts.Clear();
            throw;
        }
        finally
        {
            _writing.Release();
        }

        foreach (var host in stored.Select(s => s.Device.Host).Distinct(StringComparer.Ordinal))
        {
            bus.Publish(new GpuTelemetryIngested(host, stored.Count(s => s.Device.Host == host), now));
        }

        return new IngestResult(stored.Count, skipped, newDevices, hosts);
    }

    /// <summary>Every problem of the batch: ranges, times, UUIDs, and processes on GPUs the batch does not have.</summary>
    private void Check(TelemetryBatch batch, DateTime now, FieldErrors errors)
    {
        var oldest = now.AddDays(-Settings.MaxSampleAgeDays);
        var latest = now.AddSeconds(Settings.MaxFutureSeconds);
        foreach (var r in batch.Readings)
        {
            var at = $"line {r.Line}";
            if (!UuidPattern().IsMatch(r.Uuid))
            {
                errors.Add("uuid", $"{at}, uuid: '{Names.Visible(r.Uuid.Length > 60 ? r.Uuid[..60] : r.Uuid)}' is not a GPU UUID (GPU-… or MIG-…).");
            }

            if (r.Time > latest)
            {
                errors.Add("timestamp", $"{at}, timestamp: {r.Time:yyyy-MM-dd HH:mm:ss} UTC is in the future (more than {Settings.MaxFutureSeconds} s ahead of the portal's clock); is the host's clock or time zone wrong?");
            }
            else if (r.Time < oldest)
            {
                errors.Add("timestamp", $"{at}, timestamp: {r.Time:yyyy-MM-dd HH:mm:ss} UTC is older than {Settings.MaxSampleAgeDays} days (Portal:Telemetry:MaxSampleAgeDays).");
            }

            if (r.Busy is { } busy && (busy < 0 || busy > 1))
            {
                errors.Add("utilization.gpu", string.Create(CultureInfo.InvariantCulture, $"{at}, utilization.gpu: {busy * 100:0.##} % is outside 0–100 %."));
            }

            Range(errors, at, "memory.used", r.MemoryUsedMiB, 0, 4_000_000);
            Range(errors, at, "memory.total", r.MemoryTotalMiB, 0, 4_000_000);
            Range(errors, at, "power.draw", r.PowerW, 0, 10_000);
            Range(errors, at, "temperature.gpu", r.TemperatureC, -60, 200);
            if (r.MemoryUsedMiB is { } used && r.MemoryTotalMiB is { } total && used > total * 1.01 + 1)
            {
                errors.Add("memory.used", string.Create(CultureInfo.InvariantCulture, $"{at}, memory.used: {used} MiB is more than the GPU's {total} MiB."));
            }
        }

        var uuids = batch.Readings.Select(r => r.Uuid).ToHashSet(StringComparer.Ordinal);
        foreach (var p in batch.Processes.Where(p => !uuids.Contains(p.GpuUuid)))
        {
            errors.Add("gpu_uuid", $"line {p.Line}, gpu_uuid: {Names.Visible(p.GpuUuid)} is not one of the GPUs read from {batch.Host}.");
        }
    }

    private static void Range(FieldErrors errors, string at, string field, double? value, double low, double high)
    {
        if (value is { } v && (v < low || v > high))
        {
            errors.Add(field, string.Create(CultureInfo.InvariantCulture, $"{at}, {field}: {v} is outside {low}–{high}."));
        }
    }

    private async Task<Dictionary<GpuReading, UsageOwner>> OwnersAsync(PortalDbContext db, TelemetryBatch batch, IngestSettings settings, CancellationToken cancellationToken)
    {
        var owners = new Dictionary<GpuReading, UsageOwner>(ReferenceEqualityComparer.Instance);
        var byLabel = new Dictionary<string, UsageOwner?>(StringComparer.Ordinal);
        IReadOnlyDictionary<int, UsageOwner>? local = null;
        foreach (var reading in batch.Readings)
        {
            if (reading.Job is { } label)
            {
                if (!byLabel.TryGetValue(label, out var owner))
                {
                    byLabel[label] = owner = await attribution.CachedOwnerOfJobLabelAsync(db, label, cancellationToken);
                }

                if (owner is { } o)
                {
                    owners[reading] = o;
                    continue;
                }
            }

            if (settings.LocalProcesses)
            {
                local ??= await attribution.LocalProcessOwnersAsync(cancellationToken);
                foreach (var process in batch.Processes.Where(p => p.GpuUuid == reading.Uuid))
                {
                    if (UsageAttribution.OwnerOfProcess(process.Pid, local) is { } o)
                    {
                        owners[reading] = o;
                        break;
                    }
                }
            }
        }

        return owners;
    }

    private static long ToMs(DateTime utc) => (long)(utc - DateTime.UnixEpoch).TotalMilliseconds;

    /// <summary>Multi-row INSERTs with the numbers as literals (SQLite looks named parameters up linearly); owners as parameters.</summary>
    private static async Task InsertAsync(PortalDbContext db, IReadOnlyList<(GpuDevice Device, GpuReading Reading, int DurationMs, double? EnergyJ, string Owner)> rows, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        for (var start = 0; start < rows.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, rows.Count - start);
            await using var command = connection.CreateCommand();
            command.Transaction = transaction;
            var sql = new StringBuilder("""INSERT INTO "GpuSamples" ("DeviceId", "Time", "DurationMs", "BusyPermille", "MemoryUsedMiB", "PowerDeciW", "EnergyJ", "TemperatureC", "Owner") VALUES """, 80 * count);
            var ownerParameters = new Dictionary<string, string>(StringComparer.Ordinal);
            for (var i = 0; i < count; i++)
            {
                var (device, r, duration, energy, owner) = rows[start + i];
                var deviceId = device.Id;
                if (!ownerParameters.TryGetValue(owner, out var parameter))
                {
                    parameter = ownerParameters[owner] = "@o" + ownerParameters.Count.ToString(CultureInfo.InvariantCulture);
                    var p = command.CreateParameter();
                    p.ParameterName = parameter;
                    p.Value = owner;
                    command.Parameters.Add(p);
                }

                sql.Append(i == 0 ? "(" : ",(").Append(deviceId.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(ToMs(r.Time).ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(duration.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(Literal(r.Busy is { } b ? Math.Round(b * 1000) : null)).Append(',')
                    .Append(Literal(r.MemoryUsedMiB is { } m ? Math.Round(m) : null)).Append(',')
                    .Append(Literal(r.PowerW is { } w ? Math.Round(w * 10) : null)).Append(',')
                    .Append(Literal(energy is { } e ? Math.Round(e) : null)).Append(',')
                    .Append(Literal(r.TemperatureC is { } t ? Math.Round(t) : null)).Append(',')
                    .Append(parameter).Append(')');
            }

            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    private static string Literal(double? value) => value is { } v ? ((long)v).ToString(CultureInfo.InvariantCulture) : "NULL";
}
