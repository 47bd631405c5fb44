using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Monitoring;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Deployments;

/// <summary>
/// Drives canary rollouts: every second it measures each rollout's canary and primaries over the current
/// step (error rate, p95 latency, drift) and lets the endpoint decide — next step, done, or back to the
/// previous assignment at once. A rollback raises an alert and is audited; nothing happens silently. After
/// a portal restart, rollouts in progress resume (the step in progress bakes again) and the timeline says so.
/// </summary>
public sealed partial class RolloutWorker(
    IDbContextFactory<PortalDbContext> dbFactory,
    ServingMonitor monitor,
    ServingTable routes,
    IWorkspaceBackend backend,
    TimeProvider time,
    ILogger<RolloutWorker> logger) : BackgroundService
{
    private static readonly TimeSpan Tick = TimeSpan.FromSeconds(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ResumeAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(e);
        }

        using var timer = new PeriodicTimer(Tick, time);
        while (await WaitAsync(timer, stoppingToken))
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
            }
        }
    }

    /// <summary>What the canary and the deployments serving before it show over the current step.</summary>
    public static RolloutObservation Observe(string endpoint, Rollout rollout, ServingMonitor monitor, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        ArgumentNullException.ThrowIfNull(monitor);
        var from = rollout.StepStartedAt ?? rollout.StartedAt;
        var canaryStats = monitor.StatsOf(endpoint, rollout.Plan.Canary);
        var primaries = rollout.Baseline.Traffic.Keys.Where(k => k != rollout.Plan.Canary).Select(k => monitor.StatsOf(endpoint, k)).ToList();
        var canary = canaryStats.Summarise(from, now);
        var primary = DeploymentStats.SummariseAll(primaries, from, now);
        var readings = rollout.Plan.Gates.Select(gate => gate.Metric switch
        {
            GateMetric.ErrorRate => new GateReading(gate, canary.ErrorRate, primary.ErrorRate),
            GateMetric.P95LatencyMs => new GateReading(gate, canary.P95Ms, primary.P95Ms),
            _ => new GateReading(gate, canaryStats.LatestDrift is { Rows: > 0 } d ? d.MaxScore : null,
                primaries.Select(p => p.LatestDrift).Where(d => d is { Rows: > 0 }).Select(d => (double?)d!.MaxScore).Max()),
        }).ToList();
        return new RolloutObservation((int)(canary.Requests - canary.ClientErrors), readings);
    }

    private async Task ResumeAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.Endpoints.Where(e => e.ActiveRollout != null).ToListAsync(cancellationToken);
        foreach (var endpoint in endpoints)
        {
            if (endpoint.ResumeAfterRestart(time) is { } resumed)
            {
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.RolloutProgressed, endpoint.Ref, time, after: resumed.Message));
                LogResumed(endpoint.Name, resumed.Message);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.Endpoints.Where(e => e.ActiveRollout != null).ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        foreach (var endpoint in endpoints)
        {
            var rollout = endpoint.ActiveRollout!;
            var last = endpoint.History.LastOrDefault();
            var step = endpoint.ObserveRollout(Observe(endpoint.Name, rollout, monitor, now), time);
            if (step is null)
            {
                continue;
            }

            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.RolloutProgressed, endpoint.Ref, time, after: step.Message));
            EndpointService.AuditTraffic(db, endpoint, last, Actor.System, time);
            if (endpoint.ActiveRollout is null && endpoint.PastRollouts[^1] is { State: RolloutState.RolledBack } ended)
            {
                var alert = Alert.ForEvent(endpoint.Name, ended.Plan.Canary, AlertSeverity.Critical, $"Automatic rollback of {ended.Plan.Canary} on {endpoint.Name}", ended.Reason!, time);
                db.Alerts.Add(alert);
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertRaised, alert.Source, time, after: alert.Title, reason: alert.Message));
                LogRolledBack(endpoint.Name, ended.Reason!);
            }

            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateConcurrencyException)
            {
                // Someone changed the endpoint meanwhile; it is judged again on the next tick.
                return;
            }

            await backend.ApplyEndpointAsync(endpoint.Name, cancellationToken);
            await routes.RefreshAsync(cancellationToken);
        }
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken cancellationToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The rollout worker's tick failed; it carries on")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Rollout on {Endpoint} resumed after a restart: {Message}")]
    private partial void LogResumed(string endpoint, string message);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Rollout on {Endpoint}: {Reason}")]
    private partial void LogRolledBack(string endpoint, string reason);
}
