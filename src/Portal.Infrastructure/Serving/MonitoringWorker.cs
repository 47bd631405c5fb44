using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Serving;

/// <summary>Fresh figures for an endpoint's pages (every few seconds while it serves), so charts move without a reload.</summary>
public sealed record ServingFiguresUpdated(string Endpoint, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"endpoint:{Endpoint}";
}

/// <summary>
/// The background side of monitoring: writes sampled requests in batches, computes drift and data quality
/// for every deployment every few seconds, keeps per-minute figures in the database for charts that reach
/// further back than the live hour, and removes what is past its retention.
/// </summary>
public sealed partial class MonitoringWorker(
    IDbContextFactory<PortalDbContext> dbFactory,
    ScoringSamples samples,
    ServingTable routes,
    ServingMetrics metrics,
    IEventBus bus,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<MonitoringWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan DriftEvery = TimeSpan.FromSeconds(10);
    private static readonly TimeSpan FiguresEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan MinutesEvery = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PruneEvery = TimeSpan.FromMinutes(10);
    private readonly Dictionary<(string, string), DateTime> _flushed = [];
    private DateTime _lastDrift = DateTime.MinValue;
    private DateTime _lastFigures = DateTime.MinValue;
    private DateTime _lastMinutes = DateTime.MinValue;
    private DateTime _lastPrune = DateTime.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            var wall = DateTime.UtcNow;
            try
            {
                await WriteSamplesAsync(stoppingToken);
                if (wall - _lastDrift >= DriftEvery)
                {
                    _lastDrift = wall;
                    ComputeDrift();
                }

                if (wall - _lastFigures >= FiguresEvery)
                {
                    _lastFigures = wall;
                    foreach (var endpoint in routes.All)
                    {
                        bus.Publish(new ServingFiguresUpdated(endpoint.Name, time.GetUtcNow().UtcDateTime));
                    }
                }

                if (wall - _lastMinutes >= MinutesEvery)
                {
                    _lastMinutes = wall;
                    await FlushMinutesAsync(stoppingToken);
                }

                if (wall - _lastPrune >= PruneEvery)
                {
                    _lastPrune = wall;
                    await PruneAsync(stoppingToken);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
            }

            try
            {
                await Task.Delay(Tick, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Drift and data quality of every deployment over the window, kept on its stats and exported as metrics.</summary>
    public void ComputeDrift()
    {
        var settings = options.Value.Deployments;
        var now = time.GetUtcNow().UtcDateTime;
        var from = now.AddMinutes(-settings.DriftWindowMinutes);
        foreach (var deployment in routes.All.SelectMany(e => e.Deployments))
        {
            var stats = deployment.Stats;
            var report = LiveDrift.Compute(stats.Window.Snapshot(from), deployment.Reference, deployment.ReferenceDataset, deployment.Contract,
                stats.Summarise(from, now).TypeErrors, settings.DriftThreshold, settings.MinRowsForDistance, settings.DriftWindowMinutes, now);
            stats.LatestDrift = report;
            metrics.Drift(deployment.Endpoint, deployment.Name, report);
        }
    }

    private async Task WriteSamplesAsync(CancellationToken cancellationToken)
    {
        var batch = new List<ScoringSample>();
        while (batch.Count < 2000 && samples.Reader.TryRead(out var sample))
        {
            batch.Add(sample);
        }

        if (batch.Count == 0)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.ScoringSamples.AddRange(batch);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task FlushMinutesAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var rows = new List<ServingMinute>();
        foreach (var deployment in routes.All.SelectMany(e => e.Deployments))
        {
            var key = (deployment.Endpoint, deployment.Name);
            var after = _flushed.GetValueOrDefault(key, now.AddHours(-1));
            foreach (var (minute, summary, raw) in deployment.Stats.FinishedMinutes(after, now))
            {
                rows.Add(new ServingMinute
                {
                    Endpoint = deployment.Endpoint,
                    Deployment = deployment.Name,
                    Minute = minute,
                    Requests = summary.Requests,
                    Errors = summary.Errors,
                    ByStatus = summary.ByStatus.ToDictionary(s => s.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), s => s.Value),
                    GatewayLatency = [.. raw.Gateway],
                    ModelLatency = [.. raw.Model],
                    TotalLatency = [.. raw.Total],
                    Mirrored = summary.Mirrored,
                    MirrorFailed = summary.MirrorFailed,
                    MirrorCompared = summary.MirrorCompared,
                    MirrorDisagreed = summary.MirrorDisagreed,
                });
                _flushed[key] = minute;
            }
        }

        if (rows.Count == 0)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var keys = rows.Select(r => r.Minute).Distinct().ToList();
        var existing = await db.ServingMinutes.Where(m => keys.Contains(m.Minute)).Select(m => new { m.Endpoint, m.Deployment, m.Minute }).ToListAsync(cancellationToken);
        db.ServingMinutes.AddRange(rows.Where(r => !existing.Any(e => e.Endpoint == r.Endpoint && e.Deployment == r.Deployment && e.Minute == r.Minute)));
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task PruneAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Deployments;
        var now = time.GetUtcNow().UtcDateTime;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var sampleCutoff = now.AddDays(-settings.SampleRetentionDays);
        await db.ScoringSamples.Where(s => s.At < sampleCutoff).ExecuteDeleteAsync(cancellationToken);
        var minuteCutoff = now.AddDays(-settings.MetricsRetentionDays);
        await db.ServingMinutes.Where(m => m.Minute < minuteCutoff).ExecuteDeleteAsync(cancellationToken);
        var groups = await db.ScoringSamples.GroupBy(s => new { s.Endpoint, s.Deployment }).Select(g => new { g.Key.Endpoint, g.Key.Deployment, Count = g.Count() })
            .Where(g => g.Count > settings.SampleRetentionRows).ToListAsync(cancellationToken);
        foreach (var group in groups)
        {
            var keepFrom = await db.ScoringSamples.Where(s => s.Endpoint == group.Endpoint && s.Deployment == group.Deployment)
                .OrderByDescending(s => s.Id).Skip(settings.SampleRetentionRows).Select(s => s.Id).FirstAsync(cancellationToken);
            await db.ScoringSamples.Where(s => s.Endpoint == group.Endpoint && s.Deployment == group.Deployment && s.Id <= keepFrom).ExecuteDeleteAsync(cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The monitoring worker's tick failed; it carries on")]
    private partial void LogFailed(Exception exception);
}
