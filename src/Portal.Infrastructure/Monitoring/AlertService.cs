using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Monitoring;

/// <summary>What an alert rule is set to (the API's and the rule editor's shape).</summary>
public sealed record AlertRuleSpec(string Name, string Endpoint, string? Deployment, AlertMetric Metric, AlertComparison Comparison, double Threshold, int WindowMinutes,
    AlertSeverity Severity, bool Enabled = true);

/// <summary>A page of alerts, newest first; <c>SourcePrefixes</c> (at most two) keeps those about one kind of thing (<c>endpoint:</c>, <c>budget:</c>).</summary>
public sealed record AlertQuery(bool OpenOnly = true, string? Endpoint = null, int Skip = 0, int Take = 50, IReadOnlyList<string>? SourcePrefixes = null);

/// <summary>
/// Alert rules (Ops and administrators set them), alerts (anyone who may open Deployments reads them; Ops and
/// administrators acknowledge), and Retrain from a drift alert: the model's training job run again — same code,
/// command and params — on the newest version of its training dataset, linked back to the alert.
/// </summary>
public sealed class AlertService(IDbContextFactory<PortalDbContext> dbFactory, JobService jobs, TimeProvider time)
{
    public const string RetrainTag = "portal.retrainedFromAlert";

    public async Task<(IReadOnlyList<Alert> Alerts, int Total)> ListAsync(AlertQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alerts = db.Alerts.AsNoTracking();
        if (query.OpenOnly)
        {
            alerts = alerts.Where(a => a.State != AlertState.Resolved);
        }

        if (!string.IsNullOrWhiteSpace(query.Endpoint))
        {
            alerts = alerts.Where(a => a.Endpoint == query.Endpoint);
        }

        if (query.SourcePrefixes is [var first, ..] prefixes)
        {
            // Each page shows its own alerts: endpoints on Deployments, idle GPUs on Compute, budgets on Cost.
            alerts = prefixes.Count switch
            {
                1 => alerts.Where(a => a.Source.StartsWith(first)),
                2 => alerts.Where(a => a.Source.StartsWith(first) || a.Source.StartsWith(prefixes[1])),
                _ => throw new ArgumentException("At most two source prefixes.", nameof(query)),
            };
        }

        var total = await alerts.CountAsync(cancellationToken);
        var page = await alerts.OrderByDescending(a => a.RaisedAt).Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 500)).ToListAsync(cancellationToken);
        return (page, total);
    }

    public async Task<Alert> GetAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Alerts.AsNoTracking().FirstOrDefaultAsync(a => a.Id == id, cancellationToken)
            ?? throw new NotFoundException($"There is no alert {id}.");
    }

    public async Task<Alert> AcknowledgeAsync(Guid id, Actor actor, CancellationToken cancellationToken)
    {
        Operate(actor, "acknowledge alerts");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alert = await db.Alerts.FirstOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw new NotFoundException($"There is no alert {id}.");
        alert.Acknowledge(actor, time);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.AlertAcknowledged, alert.Source, time, before: "state=Open", after: $"state={alert.State}", reason: alert.Title));
        await db.SaveChangesAsync(cancellationToken);
        return alert;
    }

    public async Task<IReadOnlyList<AlertRule>> RulesAsync(string? endpoint, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rules = db.AlertRules.AsNoTracking();
        if (endpoint is not null)
        {
            rules = rules.Where(r => r.Endpoint == endpoint);
        }

        return await rules.OrderBy(r => r.Endpoint).ThenBy(r => r.Name).ToListAsync(cancellationToken);
    }

    public async Task<AlertRule> SaveRuleAsync(Guid? id, AlertRuleSpec spec, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        Operate(actor, "set alert rules");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (!await db.Endpoints.AnyAsync(e => e.Name == spec.Endpoint, cancellationToken))
        {
            throw new InvalidInputException("endpoint", $"endpoint: there is no endpoint '{Names.Visible(spec.Endpoint)}'.");
        }

        AlertRule rule;
        string? before = null;
        if (id is { } existing)
        {
            rule = await db.AlertRules.FirstOrDefaultAsync(r => r.Id == existing, cancellationToken) ?? throw new NotFoundException($"There is no alert rule {existing}.");
            before = rule.Describe();
            rule.Change(spec.Name, spec.Endpoint, spec.Deployment, spec.Metric, spec.Comparison, spec.Threshold, spec.WindowMinutes, spec.Severity, spec.Enabled);
        }
        else
        {
            rule = AlertRule.Create(spec.Name, spec.Endpoint, spec.Deployment, spec.Metric, spec.Comparison, spec.Threshold, spec.WindowMinutes, spec.Severity, actor, time);
            db.AlertRules.Add(rule);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.AlertRuleChanged, $"endpoint:{spec.Endpoint}", time, before: before,
            after: $"{rule.Name}: {rule.Describe()}, {rule.Severity}{(rule.Enabled ? "" : " (disabled)")}"));
        await db.SaveChangesAsync(cancellationToken);
        return rule;
    }

    public async Task DeleteRuleAsync(Guid id, Actor actor, CancellationToken cancellationToken)
    {
        Operate(actor, "delete alert rules");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rule = await db.AlertRules.FirstOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw new NotFoundException($"There is no alert rule {id}.");
        db.AlertRules.Remove(rule);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.AlertRuleChanged, $"endpoint:{rule.Endpoint}", time, before: $"{rule.Name}: {rule.Describe()}", after: "deleted"));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Runs the deployed model's training job again on the newest version of each dataset it trained on; the new
    /// run carries the alert's id and the alert the run's. Data scientists and administrators start it: the job
    /// reads the training data raw, which is theirs to read.
    /// </summary>
    public async Task<string> RetrainAsync(Guid alertId, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!actor.BuildsModels)
        {
            throw new NotPermittedException("Retraining runs a training job on the raw training data; data scientists and administrators start it. Ask one of them.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var alert = await db.Alerts.FirstOrDefaultAsync(a => a.Id == alertId, cancellationToken) ?? throw new NotFoundException($"There is no alert {alertId}.");
        if (!alert.OffersRetrain)
        {
            throw new DomainException("Only a drift alert on a deployment offers retraining.");
        }

        if (alert.RetrainRunId is { } started)
        {
            throw new DomainException($"Retraining was already started from this alert (run {started}).");
        }

        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Name == alert.Endpoint, cancellationToken);
        var deployment = endpoint?.Find(alert.Deployment!) ?? throw new DomainException($"Deployment {alert.Deployment} of {alert.Endpoint} no longer exists, so there is no model to retrain.");
        var version = await db.ModelVersions.AsNoTracking().FirstAsync(v => v.ModelName == deployment.ModelName && v.Version == deployment.ModelVersion, cancellationToken);
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.RunId == version.SourceRunId, cancellationToken)
            ?? throw new DomainException($"{version.Label} was trained by run {version.SourceRunId}, which was not a portal job; there is no code and command to run again. Retrain it where it was trained.");
        if (job.IsSystem)
        {
            throw new DomainException($"{version.Label} comes from a system job; it cannot be retrained from here.");
        }

        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Id == job.ExperimentId).Select(e => e.Name).FirstAsync(cancellationToken);
        var inputs = new Dictionary<string, string>(StringComparer.Ordinal);
        var newer = new List<string>();
        foreach (var (name, reference) in job.Inputs)
        {
            var parts = reference.Split(':');
            if (parts is ["dataset", var dataset, var number])
            {
                var newest = await db.DatasetVersions.AsNoTracking()
                    .Join(db.Datasets.AsNoTracking().Where(d => d.Name == dataset), v => v.DatasetId, d => d.Id, (v, d) => v.Number)
                    .MaxAsync(n => (int?)n, cancellationToken) ?? int.Parse(number, System.Globalization.CultureInfo.InvariantCulture);
                inputs[name] = $"dataset:{dataset}:{newest}";
                newer.Add($"{name}: {reference} → dataset:{dataset}:{newest}");
            }
            else
            {
                inputs[name] = reference;
            }
        }

        var request = new JobRequest(experiment, job.Command, job.CodePath, inputs, job.Params, RunName: $"retrain {version.ModelName} v{version.Version} after drift",
            Environment: job.Environment)
        {
            PortalTags = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                [RetrainTag] = alert.Id.ToString(),
                ["portal.retrainedFrom"] = $"{version.ModelName}:{version.Version}",
            },
        };
        var submitted = await jobs.SubmitAsync(request, actor, cancellationToken);
        alert.RecordRetrain(submitted.RunId);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.RetrainStarted, alert.Source, time,
            after: $"run={submitted.RunId}; job={submitted.Id}; {string.Join("; ", newer)}", reason: alert.Title));
        await db.SaveChangesAsync(cancellationToken);
        return submitted.RunId;
    }

    private static void Operate(Actor actor, string what)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!Endpoint.MayOperate(actor))
        {
            throw new NotPermittedException($"Only Ops and administrators {what}.");
        }
    }
}
