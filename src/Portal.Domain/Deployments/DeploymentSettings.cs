using System.Globalization;
using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>
/// A probe the backend sends an instance (Azure ML's <c>liveness_probe</c>/<c>readiness_probe</c>, same
/// defaults): the first after <see cref="InitialDelaySeconds"/>, then every <see cref="PeriodSeconds"/>; an
/// answer slower than <see cref="TimeoutSeconds"/> counts as a failure, and <see cref="FailureThreshold"/>
/// failures in a row mark the instance not ready (readiness) or restart it (liveness).
/// </summary>
public sealed record ProbeSettings(int InitialDelaySeconds = 10, int PeriodSeconds = 10, int TimeoutSeconds = 2, int FailureThreshold = 30, int SuccessThreshold = 1)
{
    public static ProbeSettings AzureDefaults { get; } = new();

    /// <summary>How long an instance may take to become ready before the deployment says it never did.</summary>
    public TimeSpan GiveUpAfter => TimeSpan.FromSeconds(InitialDelaySeconds + ((double)PeriodSeconds * FailureThreshold));

    public void Check(FieldErrors errors, string field)
    {
        ArgumentNullException.ThrowIfNull(errors);
        Range(errors, $"{field}.initialDelaySeconds", InitialDelaySeconds, 0, 3600);
        Range(errors, $"{field}.periodSeconds", PeriodSeconds, 1, 3600);
        Range(errors, $"{field}.timeoutSeconds", TimeoutSeconds, 1, 300);
        Range(errors, $"{field}.failureThreshold", FailureThreshold, 1, 1000);
        Range(errors, $"{field}.successThreshold", SuccessThreshold, 1, 1000);
    }

    private static void Range(FieldErrors errors, string field, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            errors.Add(field, $"{field}: {value.ToString(CultureInfo.InvariantCulture)} is outside {min}–{max.ToString("N0", CultureInfo.InvariantCulture)}.");
        }
    }
}

/// <summary>
/// What a deployment runs and how (Azure ML's managed online deployment settings). Request timeout default
/// and maximum are Azure's (5,000 and 180,000 ms); max concurrent requests per instance defaults to Azure's 1,
/// and a request waits up to <see cref="MaxQueueWaitMs"/> for a free slot before it is refused with 429.
/// </summary>
public sealed record DeploymentSpec(
    string Name,
    string Model,
    int Version,
    int InstanceCount = 1,
    int RequestTimeoutMs = DeploymentSpec.DefaultRequestTimeoutMs,
    int MaxConcurrentRequestsPerInstance = 1,
    int MaxQueueWaitMs = 500,
    ProbeSettings? Liveness = null,
    ProbeSettings? Readiness = null)
{
    public const int DefaultRequestTimeoutMs = 5_000;
    public const int MaxRequestTimeoutMs = 180_000;
    public const int MaxConcurrentLimit = 1_000;

    public ProbeSettings LivenessProbe => Liveness ?? ProbeSettings.AzureDefaults;

    public ProbeSettings ReadinessProbe => Readiness ?? ProbeSettings.AzureDefaults;

    /// <summary>Every problem with the settings, per field; <paramref name="maxInstances"/> is the backend's limit.</summary>
    public FieldErrors Problems(int maxInstances, string prefix = "")
    {
        var errors = new FieldErrors();
        if (EndpointNames.Problem(Name, $"{prefix}name", "deployment") is { } name)
        {
            errors.Add($"{prefix}name", name);
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            errors.Add($"{prefix}model", $"{prefix}model: name the registered model to deploy.");
        }

        if (Version < 1)
        {
            errors.Add($"{prefix}version", $"{prefix}version: name the model version to deploy (1, 2, …).");
        }

        if (InstanceCount < 1 || InstanceCount > maxInstances)
        {
            errors.Add($"{prefix}instanceCount", $"{prefix}instanceCount: {InstanceCount.ToString(CultureInfo.InvariantCulture)} instances; a deployment runs 1 to {maxInstances} on this backend.");
        }

        if (RequestTimeoutMs < 1 || RequestTimeoutMs > MaxRequestTimeoutMs)
        {
            errors.Add($"{prefix}requestTimeoutMs", $"{prefix}requestTimeoutMs: {RequestTimeoutMs.ToString("N0", CultureInfo.InvariantCulture)} ms; a request timeout is 1 to {MaxRequestTimeoutMs:N0} ms (Azure ML's range; default {DefaultRequestTimeoutMs:N0}).");
        }

        if (MaxConcurrentRequestsPerInstance < 1 || MaxConcurrentRequestsPerInstance > MaxConcurrentLimit)
        {
            errors.Add($"{prefix}maxConcurrentRequestsPerInstance", $"{prefix}maxConcurrentRequestsPerInstance: {MaxConcurrentRequestsPerInstance.ToString(CultureInfo.InvariantCulture)}; use 1 to {MaxConcurrentLimit:N0}.");
        }

        if (MaxQueueWaitMs < 0 || MaxQueueWaitMs > MaxRequestTimeoutMs)
        {
            errors.Add($"{prefix}maxQueueWaitMs", $"{prefix}maxQueueWaitMs: {MaxQueueWaitMs.ToString(CultureInfo.InvariantCulture)} ms; use 0 to {MaxRequestTimeoutMs:N0} ms.");
        }

        LivenessProbe.Check(errors, $"{prefix}liveness");
        ReadinessProbe.Check(errors, $"{prefix}readiness");
        return errors;
    }
}
