using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Reads every available telemetry source at its interval into the one ingestion path, and every
/// <c>RollupIntervalSeconds</c> rolls readings up, adds compute time, checks idleness and budgets, and drops
/// what is past its retention. A failing source is logged and tried again; it never stops the others.
/// </summary>
public sealed partial class TelemetryWorker(
    IEnumerable<ITelemetrySource> sources,
    TelemetryIngestor ingestor,
    TelemetryRollups rollups,
    IdleWatch idle,
    BudgetWatch budgets,
    IDbContextFactory<PortalDbContext> dbFactory,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<TelemetryWorker> logger) : BackgroundService, IDisposable
{
    private readonly Dictionary<ITelemetrySource, DateTime> _due = [];

    // Passes move cursors; two at once would both take the same readings and count them twice.
    private readonly SemaphoreSlim _passing = new(1, 1);
    private DateTime _retentionDue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        foreach (var source in sources.Where(s => s.Available))
        {
            LogSource(source.Name, source.Interval.TotalSeconds);
        }

        var pass = TimeSpan.FromSeconds(options.Value.Telemetry.RollupIntervalSeconds);
        var nextPass = DateTime.MinValue;
        while (!stoppingToken.IsCancellationRequested)
        {
            var now = time.GetUtcNow().UtcDateTime;
            foreach (var source in sources.Where(s => s.Available))
            {
                if (_due.TryGetValue(source, out var due) && due > now)
                {
                    continue;
                }

                _due[source] = now + source.Interval;
                await ReadAsync(source, stoppingToken);
            }

            if (now >= nextPass)
            {
                nextPass = now + pass;
                await PassAsync(stoppingToken);
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One rollup pass (tests call it to see results without waiting).</summary>
    public async Task PassAsync(CancellationToken cancellationToken)
    {
        await _passing.WaitAsync(cancellationToken);
        try
        {
            await rollups.RollUpAsync(cancellationToken);
            await rollups.SampleComputeAsync(cancellationToken);
            await idle.CheckAsync(cancellationToken);
            await budgets.CheckAsync(cancellationToken);
            var now = time.GetUtcNow().UtcDateTime;
            if (now >= _retentionDue)
            {
                _retentionDue = now.AddMinutes(10);
                await rollups.ApplyRetentionAsync(cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException && !DatabaseErrors.IsTransient(e))
        {
            LogPassFailed(e);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPassRetry(e.Message);
        }
        finally
        {
            _passing.Release();
        }
    }

    /// <summary>
    /// After readings were loaded for a past period (the demo's week of history), checks that period for idle
    /// allocations too: the idle check otherwise only looks at minutes that arrive from now on.
    /// </summary>
    public async Task CheckHistoryAsync(DateTime from, CancellationToken cancellationToken)
    {
        await _passing.WaitAsync(cancellationToken);
        try
        {
            await rollups.RollUpAsync(cancellationToken);
            await idle.RescanFromAsync(from, cancellationToken);
        }
        finally
        {
            _passing.Release();
        }

        await PassAsync(cancellationToken);
    }

    private async Task ReadAsync(ITelemetrySource source, CancellationToken cancellationToken)
    {
        try
        {
            var local = source is NvidiaSmiSource;
            var interval = source.Interval;
            foreach (var batch in await source.ReadAsync(cancellationToken))
            {
                await ingestor.IngestAsync(batch, new IngestSettings(NominalInterval: interval, LocalProcesses: local), cancellationToken);
            }

            if (local && options.Value.Telemetry.DcgmJobMappingDir is { Length: > 0 } dir)
            {
                await WriteJobMappingAsync(dir, ((NvidiaSmiSource)source).Host, cancellationToken);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogSourceFailed(source.Name, e.Message);
        }
    }

    /// <summary>
    /// The DCGM exporter's job mapping: one file per GPU index holding the run id of the local job using it,
    /// so the exporter's own samples carry <c>hpc_job</c>. GPUs no job uses have no file.
    /// </summary>
    private async Task WriteJobMappingAsync(string dir, string host, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var devices = await db.GpuDevices.AsNoTracking().Where(d => d.Host == host && d.Index != null).ToListAsync(cancellationToken);
        Directory.CreateDirectory(dir);
        foreach (var device in devices)
        {
            var path = Path.Combine(dir, device.Index!.Value.ToString(CultureInfo.InvariantCulture));
            if (UsageOwner.Parse(device.LastOwner) is { Kind: UsageKind.Run } run)
            {
                if (!File.Exists(path) || await File.ReadAllTextAsync(path, cancellationToken) != run.Id)
                {
                    await File.WriteAllTextAsync(path, run.Id, cancellationToken);
                }
            }
            else if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
    }

    public override void Dispose()
    {
        _passing.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "GPU telemetry: reading {Source} every {Seconds} s")]
    private partial void LogSource(string source, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "GPU telemetry source {Source} failed: {Reason}")]
    private partial void LogSourceFailed(string source, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "GPU telemetry rollup pass failed")]
    private partial void LogPassFailed(Exception e);

    [LoggerMessage(Level = LogLevel.Debug, Message = "GPU telemetry rollup pass will be retried: {Reason}")]
    private partial void LogPassRetry(string reason);
}
