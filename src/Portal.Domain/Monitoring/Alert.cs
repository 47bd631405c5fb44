using Portal.Domain.Common;

namespace Portal.Domain.Monitoring;

public enum AlertState
{
    /// <summary>Firing and nobody has said they are on it.</summary>
    Open,

    /// <summary>Someone is on it; it still resolves itself when the condition clears.</summary>
    Acknowledged,

    Resolved,
}

/// <summary>
/// Something that needs a person: a rule's condition holding (drift, latency, errors), or an event the
/// portal acted on by itself (an automatic rollback). Lives from Open to Resolved; every move is audited.
/// </summary>
public sealed class Alert : Entity
{
    private Alert()
    {
    }

    public Guid Id { get; private set; }

    /// <summary>The rule that raised it; null for an event alert (a rollback).</summary>
    public Guid? RuleId { get; private set; }

    /// <summary>What it is about, as an artifact reference (<c>endpoint:credit-risk</c>, <c>endpoint:credit-risk:blue</c>).</summary>
    public string Source { get; private set; } = "";

    public string Endpoint { get; private set; } = "";

    public string? Deployment { get; private set; }

    public AlertMetric? Metric { get; private set; }

    public AlertSeverity Severity { get; private set; }

    public string Title { get; private set; } = "";

    public string Message { get; private set; } = "";

    /// <summary>The metric's value when last evaluated (null for event alerts).</summary>
    public double? Value { get; private set; }

    public double? Threshold { get; private set; }

    public AlertState State { get; private set; }

    public DateTime RaisedAt { get; private set; }

    public DateTime LastSeenAt { get; private set; }

    public string? AcknowledgedBy { get; private set; }

    public DateTime? AcknowledgedAt { get; private set; }

    public DateTime? ResolvedAt { get; private set; }

    public string? ResolvedReason { get; private set; }

    /// <summary>The run a Retrain from this alert started.</summary>
    public string? RetrainRunId { get; private set; }

    public bool IsOpen => State != AlertState.Resolved;

    /// <summary>Data drift (of inputs or predictions) is what retraining answers.</summary>
    public bool OffersRetrain => Metric is AlertMetric.Drift or AlertMetric.PredictionDrift && Deployment is not null;

    public static Alert FromRule(AlertRule rule, string? deployment, double value, string message, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(rule);
        var now = time.UtcNow();
        var alert = new Alert
        {
            Id = Guid.NewGuid(),
            RuleId = rule.Id,
            Endpoint = rule.Endpoint,
            Deployment = deployment,
            Source = deployment is null ? $"endpoint:{rule.Endpoint}" : $"endpoint:{rule.Endpoint}:{deployment}",
            Metric = rule.Metric,
            Severity = rule.Severity,
            Title = $"{rule.Name}: {AlertRule.Describe(rule.Metric)} {AlertRule.Format(rule.Metric, value)}",
            Message = message,
            Value = value,
            Threshold = rule.Threshold,
            State = AlertState.Open,
            RaisedAt = now,
            LastSeenAt = now,
        };
        alert.Raise(new AlertRaised(alert.Id, alert.Source, alert.Severity, alert.Title, alert.Message, now));
        return alert;
    }

    /// <summary>An alert for something that happened (an automatic rollback): no rule, resolved when acknowledged.</summary>
    public static Alert ForEvent(string endpoint, string? deployment, AlertSeverity severity, string title, string message, TimeProvider time)
    {
        var alert = ForSource(deployment is null ? $"endpoint:{endpoint}" : $"endpoint:{endpoint}:{deployment}", severity, title, message, null, null, time);
        alert.Endpoint = endpoint;
        alert.Deployment = deployment;
        return alert;
    }

    /// <summary>
    /// An alert about something other than an endpoint (a budget threshold crossed, an idle GPU allocation):
    /// <paramref name="source"/> names it (<c>budget:team:vision</c>, <c>run:ab12</c>). It has no rule, so
    /// acknowledging it ends it; whoever raised it may also resolve it when the condition clears.
    /// </summary>
    public static Alert ForSource(string source, AlertSeverity severity, string title, string message, double? value, double? threshold, TimeProvider time)
    {
        ArgumentException.ThrowIfNullOrEmpty(source);
        var now = time.UtcNow();
        var alert = new Alert
        {
            Id = Guid.NewGuid(),
            Source = source,
            Severity = severity,
            Title = title,
            Message = message,
            Value = value,
            Threshold = threshold,
            State = AlertState.Open,
            RaisedAt = now,
            LastSeenAt = now,
        };
        alert.Raise(new AlertRaised(alert.Id, alert.Source, alert.Severity, alert.Title, alert.Message, now));
        return alert;
    }

    /// <summary>The condition still holds: the latest reading is kept.</summary>
    public void StillFiring(double value, string message, TimeProvider time)
    {
        Value = value;
        Message = message;
        LastSeenAt = time.UtcNow();
    }

    public void Acknowledge(Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (State != AlertState.Open)
        {
            throw new DomainException(State == AlertState.Acknowledged
                ? $"This alert was acknowledged by {AcknowledgedBy} already."
                : "This alert is resolved; there is nothing to acknowledge.");
        }

        var now = time.UtcNow();
        State = AlertState.Acknowledged;
        AcknowledgedBy = actor.Name;
        AcknowledgedAt = now;
        Raise(new AlertChanged(Id, Source, State, $"acknowledged by {actor.Name}", now));
        if (RuleId is null)
        {
            // An event alert has no condition that could clear: someone having seen it ends it.
            Resolve($"acknowledged by {actor.Name}", time);
        }
    }

    /// <summary>The condition cleared (or, for an event alert, someone acknowledged it).</summary>
    public void Resolve(string reason, TimeProvider time)
    {
        if (State == AlertState.Resolved)
        {
            return;
        }

        var now = time.UtcNow();
        State = AlertState.Resolved;
        ResolvedAt = now;
        ResolvedReason = reason;
        Raise(new AlertChanged(Id, Source, State, reason, now));
    }

    public void RecordRetrain(string runId)
    {
        if (!OffersRetrain)
        {
            throw new DomainException("Only a drift alert on a deployment offers retraining.");
        }

        if (RetrainRunId is not null)
        {
            throw new DomainException($"Retraining was already started from this alert (run {RetrainRunId}).");
        }

        RetrainRunId = runId;
    }
}

public sealed record AlertRaised(Guid AlertId, string Source, AlertSeverity Severity, string Title, string Message, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => Source;
}

public sealed record AlertChanged(Guid AlertId, string Source, AlertState State, string Reason, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => Source;
}
