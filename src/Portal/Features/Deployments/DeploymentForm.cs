using Portal.Domain.Deployments;

namespace Portal.Features.Deployments;

/// <summary>A deployment's settings as the dialogs edit them.</summary>
public sealed class DeploymentForm
{
    public string Name { get; set; } = "";

    public string? Model { get; set; }

    public int Version { get; set; }

    public int InstanceCount { get; set; } = 1;

    public int RequestTimeoutMs { get; set; } = DeploymentSpec.DefaultRequestTimeoutMs;

    public int MaxConcurrent { get; set; } = 4;

    public int MaxQueueWaitMs { get; set; } = 500;

    public int ReadinessDelay { get; set; } = ProbeSettings.AzureDefaults.InitialDelaySeconds;

    public int ReadinessPeriod { get; set; } = ProbeSettings.AzureDefaults.PeriodSeconds;

    public int ReadinessFailures { get; set; } = ProbeSettings.AzureDefaults.FailureThreshold;

    public int LivenessFailures { get; set; } = ProbeSettings.AzureDefaults.FailureThreshold;

    public static DeploymentForm Of(Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return new()
        {
            Name = deployment.Name,
            Model = deployment.ModelName,
            Version = deployment.ModelVersion,
            InstanceCount = deployment.InstanceCount,
            RequestTimeoutMs = deployment.RequestTimeoutMs,
            MaxConcurrent = deployment.MaxConcurrentRequestsPerInstance,
            MaxQueueWaitMs = deployment.MaxQueueWaitMs,
            ReadinessDelay = deployment.Readiness.InitialDelaySeconds,
            ReadinessPeriod = deployment.Readiness.PeriodSeconds,
            ReadinessFailures = deployment.Readiness.FailureThreshold,
            LivenessFailures = deployment.Liveness.FailureThreshold,
        };
    }

    public DeploymentSpec ToSpec() => new(Name.Trim(), Model ?? "", Version, InstanceCount, RequestTimeoutMs, MaxConcurrent, MaxQueueWaitMs,
        ProbeSettings.AzureDefaults with { FailureThreshold = LivenessFailures },
        ProbeSettings.AzureDefaults with { InitialDelaySeconds = ReadinessDelay, PeriodSeconds = ReadinessPeriod, FailureThreshold = ReadinessFailures });
}
