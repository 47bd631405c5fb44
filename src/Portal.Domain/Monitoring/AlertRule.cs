using System.Globalization;
using Portal.Domain.Common;
using Portal.Domain.Deployments;

namespace Portal.Domain.Monitoring;

/// <summary>What an alert rule watches on an endpoint's deployments.</summary>
public enum AlertMetric
{
    /// <summary>Share of requests answered with an error (408, 424, 429, 5xx), 0–1.</summary>
    ErrorRate,
    P95LatencyMs,
    P99LatencyMs,
    RequestsPerSecond,

    /// <summary>The largest per-feature drift score of live inputs against the training data.</summary>
    Drift,

    /// <summary>Drift of the predictions against the deployment's first predictions.</summary>
    PredictionDrift,

    /// <summary>Share of input values that are missing, wrongly typed or outside the training data's contract.</summary>
    DataQualityIssues,

    /// <summary>Share of mirrored requests whose answer differs from the primary's.</summary>
    MirrorDisagreement,

    /// <summary>Instance restarts within the window.</summary>
    InstanceRestarts,
}

public enum AlertSeverity
{
    Info,
    Warning,
    Critical,
}

public enum AlertComparison
{
    Above,
    Below,
}

/// <summary>
/// A condition evaluated continuously on an endpoint (every deployment, or one): a metric over a sliding
/// window compared with a threshold. While it holds, one alert is open; it resolves itself when it clears.
/// </summary>
public sealed class AlertRule : Entity
{
    public const int MaxWindowMinutes = 24 * 60;

    private AlertRule()
    {
    }

    public Guid Id { get; private set; }

    public string Name { get; private set; } = "";

    public string Endpoint { get; private set; } = "";

    /// <summary>One deployment, or null for each deployment of the endpoint.</summary>
    public string? Deployment { get; private set; }

    public AlertMetric Metric { get; private set; }

    public AlertComparison Comparison { get; private set; }

    public double Threshold { get; private set; }

    public int WindowMinutes { get; private set; }

    public AlertSeverity Severity { get; private set; }

    public bool Enabled { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    public static AlertRule Create(string name, string endpoint, string? deployment, AlertMetric metric, AlertComparison comparison, double threshold,
        int windowMinutes, AlertSeverity severity, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var rule = new AlertRule { Id = Guid.NewGuid(), CreatedBy = actor.Name, CreatedAt = time.UtcNow(), Enabled = true };
        rule.Change(name, endpoint, deployment, metric, comparison, threshold, windowMinutes, severity, true);
        return rule;
    }

    public void Change(string name, string endpoint, string? deployment, AlertMetric metric, AlertComparison comparison, double threshold, int windowMinutes,
        AlertSeverity severity, bool enabled)
    {
        var errors = new FieldErrors();
        if (Names.FreeTextProblem(name, "name", 100) is { } nameProblem)
        {
            errors.Add("name", nameProblem);
        }

        if (EndpointNames.Problem(endpoint, "endpoint") is { } endpointProblem)
        {
            errors.Add("endpoint", endpointProblem);
        }

        if (deployment is not null && EndpointNames.Problem(deployment, "deployment", "deployment") is { } deploymentProblem)
        {
            errors.Add("deployment", deploymentProblem);
        }

        if (!Enum.IsDefined(metric))
        {
            errors.Add("metric", $"metric: choose one of {string.Join(", ", Enum.GetNames<AlertMetric>())}.");
        }

        if (!double.IsFinite(threshold) || threshold < 0)
        {
            errors.Add("threshold", "threshold: give a number of 0 or more.");
        }
        else if (metric is AlertMetric.ErrorRate or AlertMetric.DataQualityIssues or AlertMetric.MirrorDisagreement && threshold > 1)
        {
            errors.Add("threshold", $"threshold: {Describe(metric)} is a share from 0 to 1 (0.05 for 5 %); got {threshold.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (windowMinutes is < 1 or > MaxWindowMinutes)
        {
            errors.Add("windowMinutes", $"windowMinutes: 1 to {MaxWindowMinutes:N0} minutes.");
        }

        if (!Enum.IsDefined(severity))
        {
            errors.Add("severity", "severity: Info, Warning or Critical.");
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        Name = name;
        Endpoint = endpoint;
        Deployment = deployment;
        Metric = metric;
        Comparison = comparison;
        Threshold = threshold;
        WindowMinutes = windowMinutes;
        Severity = severity;
        Enabled = enabled;
    }

    /// <summary>Whether <paramref name="value"/> fires the rule.</summary>
    public bool FiresOn(double value) => Comparison == AlertComparison.Above ? value > Threshold : value < Threshold;

    /// <summary>"drift above 0.1 over 15 min".</summary>
    public string Describe() =>
        $"{Describe(Metric)} {(Comparison == AlertComparison.Above ? "above" : "below")} {Format(Metric, Threshold)} over {WindowMinutes} min";

    public static string Describe(AlertMetric metric) => metric switch
    {
        AlertMetric.ErrorRate => "error rate",
        AlertMetric.P95LatencyMs => "p95 latency",
        AlertMetric.P99LatencyMs => "p99 latency",
        AlertMetric.RequestsPerSecond => "requests per second",
        AlertMetric.Drift => "data drift",
        AlertMetric.PredictionDrift => "prediction drift",
        AlertMetric.DataQualityIssues => "data quality issues",
        AlertMetric.MirrorDisagreement => "mirror disagreement",
        _ => "instance restarts",
    };

    public static string Format(AlertMetric metric, double value) => metric switch
    {
        AlertMetric.ErrorRate or AlertMetric.DataQualityIssues or AlertMetric.MirrorDisagreement => value.ToString("0.#%", CultureInfo.InvariantCulture),
        AlertMetric.P95LatencyMs or AlertMetric.P99LatencyMs => $"{value.ToString("0.#", CultureInfo.InvariantCulture)} ms",
        AlertMetric.RequestsPerSecond => $"{value.ToString("0.##", CultureInfo.InvariantCulture)}/s",
        AlertMetric.InstanceRestarts => value.ToString("0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.###", CultureInfo.InvariantCulture),
    };
}
