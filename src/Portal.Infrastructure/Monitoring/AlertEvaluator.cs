using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Monitoring;

/// <summary>
/// Evaluates every enabled alert rule on the live figures, continuously: a condition that holds opens one
/// alert per rule and deployment (kept current while it holds), a condition that clears resolves it. Both
/// are audited; the alert itself reaches people through the notification area and Ops' Home.
/// </summary>
public sealed partial class AlertEvaluator(
    IDbContextFactory<PortalDbContext> dbFactory,
    ServingTable routes,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<AlertEvaluator> logger) : BackgroundService
{
    /// <summary>Rates need at least this many requests in the window before they fire (one failed request is not a 100 % error rate).</summary>
    public const int MinRequests = 10;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await EvaluateAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException && !DatabaseErrors.IsTransient(e))
            {
                LogFailed(e);
            }
            catch (Exception e) when (DatabaseErrors.IsTransient(e))
            {
                // Evaluated again on the next round.
            }

            try
            {
                await Task.Delay(TimeSpan.FromSeconds(options.Value.Deployments.AlertEvaluationSeconds), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One round over every rule.</summary>
    public async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rules = await db.AlertRules.Where(r => r.Enabled).ToListAsync(cancellationToken);
        var open = await db.Alerts.Where(a => a.RuleId != null && a.State != AlertState.Resolved).ToListAsync(cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var seen = new HashSet<Guid>();
        foreach (var rule in rules)
        {
            var endpoint = routes.Find(rule.Endpoint);
            foreach (var deployment in endpoint?.Deployments.Where(d => rule.Deployment is null || d.Name == rule.Deployment) ?? [])
            {
                var existing = open.FirstOrDefault(a => a.RuleId == rule.Id && a.Deployment == deployment.Name);
                var value = Measure(rule, deployment, now);
                if (value is { } v && rule.FiresOn(v))
                {
                    var message = $"{deployment.Name} ({deployment.Model} v{deployment.Version}): {AlertRule.Describe(rule.Metric)} is {AlertRule.Format(rule.Metric, v)} over {Window(rule)}; the rule says {rule.Describe()}.";
                    if (existing is null)
                    {
                        var alert = Alert.FromRule(rule, deployment.Name, v, message, time);
                        db.Alerts.Add(alert);
                        db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertRaised, alert.Source, time, after: alert.Title, reason: message));
                    }
                    else
                    {
                        existing.StillFiring(v, message, time);
                        seen.Add(existing.Id);
                    }
                }
                else if (existing is not null && value is not null)
                {
                    existing.Resolve($"cleared: {AlertRule.Describe(rule.Metric)} is {AlertRule.Format(rule.Metric, value.Value)} now", time);
                    db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertResolved, existing.Source, time, before: existing.Title, after: existing.ResolvedReason));
                    seen.Add(existing.Id);
                }
                else if (existing is not null)
                {
                    seen.Add(existing.Id);
                }
            }
        }

        // Alerts whose rule or deployment is gone have nothing left to watch.
        foreach (var orphan in open.Where(a => !seen.Contains(a.Id) && db.Entry(a).State == EntityState.Unchanged
                     && (rules.All(r => r.Id != a.RuleId) || routes.Find(a.Endpoint)?.Find(a.Deployment ?? "") is null)))
        {
            orphan.Resolve("its rule or deployment no longer exists", time);
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertResolved, orphan.Source, time, before: orphan.Title, after: orphan.ResolvedReason));
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>The rule's metric for one deployment now, or null when there is not enough to judge.</summary>
    public static double? Measure(AlertRule rule, DeploymentRoute deployment, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(rule);
        ArgumentNullException.ThrowIfNull(deployment);
        var summary = deployment.Stats.Summarise(now.AddMinutes(-rule.WindowMinutes), now);
        var drift = deployment.Stats.LatestDrift;
        var enough = summary.Requests - summary.ClientErrors >= MinRequests;
        return rule.Metric switch
        {
            AlertMetric.ErrorRate => enough ? summary.ErrorRate : null,
            AlertMetric.P95LatencyMs => enough ? summary.P95Ms : null,
            AlertMetric.P99LatencyMs => enough ? summary.P99Ms : null,
            AlertMetric.RequestsPerSecond => summary.RequestsPerSecond,
            AlertMetric.Drift => drift is { Features.Count: > 0 } ? drift.MaxScore : null,
            AlertMetric.PredictionDrift => drift?.Prediction?.Score,
            AlertMetric.DataQualityIssues => drift is { Rows: > 0 } ? drift.DataQualityIssues : null,
            AlertMetric.MirrorDisagreement => summary.MirrorCompared >= MinRequests ? summary.MirrorDisagreement : null,
            _ => summary.Restarts,
        };
    }

    private static string Window(AlertRule rule) => rule.Metric is AlertMetric.Drift or AlertMetric.PredictionDrift or AlertMetric.DataQualityIssues
        ? "the drift window"
        : $"the last {rule.WindowMinutes} min";

    [LoggerMessage(Level = LogLevel.Error, Message = "Alert evaluation failed; it carries on")]
    private partial void LogFailed(Exception exception);
}
