using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>Azure ML's provisioning and health states of an online deployment, as one word each.</summary>
public enum DeploymentState
{
    /// <summary>Instances are starting; none has been ready yet.</summary>
    Creating,

    /// <summary>Settings changed; instances are being replaced.</summary>
    Updating,

    /// <summary>Every instance answers its readiness probe.</summary>
    Healthy,

    /// <summary>No instance is ready: it crashed, hangs or answers garbage (the reason says which).</summary>
    Unhealthy,

    /// <summary>Being taken down; gone once its instances stopped.</summary>
    Deleting,

    /// <summary>Cannot run at all (its model files are missing or altered, or the backend refuses it).</summary>
    Failed,
}

/// <summary>
/// One model version served behind an endpoint, with its instance count, request limits and probes. Owned
/// by its <see cref="Endpoint"/>: traffic and rollouts are the endpoint's business, health is reported by the
/// backend through <see cref="Endpoint.ReportHealth"/>.
/// </summary>
public sealed class Deployment
{
    private Deployment()
    {
    }

    public string Name { get; private set; } = "";

    public string ModelName { get; private set; } = "";

    public int ModelVersion { get; private set; }

    /// <summary>The SHA-256 the approval bound; instances load exactly these bytes.</summary>
    public string ArtifactHash { get; private set; } = "";

    public int InstanceCount { get; private set; }

    public int RequestTimeoutMs { get; private set; }

    public int MaxConcurrentRequestsPerInstance { get; private set; }

    public int MaxQueueWaitMs { get; private set; }

    public ProbeSettings Liveness { get; private set; } = ProbeSettings.AzureDefaults;

    public ProbeSettings Readiness { get; private set; } = ProbeSettings.AzureDefaults;

    public DeploymentState State { get; private set; }

    /// <summary>What a person can do about the state (why it is unhealthy, with the last log lines).</summary>
    public string? StateReason { get; private set; }

    public DateTime StateChangedAt { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    /// <summary>Grows with every change of settings; instances of an older generation are replaced.</summary>
    public int Generation { get; private set; }

    public string ModelRef => $"model:{ModelName}:{ModelVersion}";

    public bool IsServing => State is DeploymentState.Healthy;

    /// <summary>Whether it can be given live traffic: not on its way out, not unable to run.</summary>
    public bool MayTakeTraffic => State is not (DeploymentState.Deleting or DeploymentState.Failed);

    internal static Deployment Create(DeploymentSpec spec, string artifactHash, Actor actor, DateTime now) => new()
    {
        Name = spec.Name,
        ModelName = spec.Model,
        ModelVersion = spec.Version,
        ArtifactHash = artifactHash,
        InstanceCount = spec.InstanceCount,
        RequestTimeoutMs = spec.RequestTimeoutMs,
        MaxConcurrentRequestsPerInstance = spec.MaxConcurrentRequestsPerInstance,
        MaxQueueWaitMs = spec.MaxQueueWaitMs,
        Liveness = spec.LivenessProbe,
        Readiness = spec.ReadinessProbe,
        State = DeploymentState.Creating,
        StateReason = "Starting its instances.",
        StateChangedAt = now,
        CreatedBy = actor.Name,
        CreatedAt = now,
        Generation = 1,
    };

    /// <summary>The settings as a spec, to compare with or edit.</summary>
    public DeploymentSpec ToSpec() => new(Name, ModelName, ModelVersion, InstanceCount, RequestTimeoutMs, MaxConcurrentRequestsPerInstance, MaxQueueWaitMs, Liveness, Readiness);

    /// <summary>Applies new settings of the same model version; returns false when nothing changed.</summary>
    internal bool Update(DeploymentSpec spec, DateTime now)
    {
        if (spec.Model != ModelName || spec.Version != ModelVersion)
        {
            throw new DomainException($"Deployment {Name} serves {ModelName} version {ModelVersion}; a deployment keeps its model version. Add a new deployment for {spec.Model} version {spec.Version} and move traffic to it (a canary).");
        }

        if (spec == ToSpec())
        {
            return false;
        }

        InstanceCount = spec.InstanceCount;
        RequestTimeoutMs = spec.RequestTimeoutMs;
        MaxConcurrentRequestsPerInstance = spec.MaxConcurrentRequestsPerInstance;
        MaxQueueWaitMs = spec.MaxQueueWaitMs;
        Liveness = spec.LivenessProbe;
        Readiness = spec.ReadinessProbe;
        Generation++;
        Set(DeploymentState.Updating, "Replacing its instances with the new settings.", now);
        return true;
    }

    internal void MarkDeleting(DateTime now) => Set(DeploymentState.Deleting, "Stopping its instances.", now);

    /// <summary>Moves to a health state the backend observed; false when it is already there for the same reason.</summary>
    internal bool Set(DeploymentState state, string? reason, DateTime now)
    {
        if (State == state && StateReason == reason)
        {
            return false;
        }

        State = state;
        StateReason = reason;
        StateChangedAt = now;
        return true;
    }
}
