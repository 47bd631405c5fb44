using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>Something about an endpoint changed that its pages show (created, a deployment added, keys rotated).</summary>
public sealed record EndpointChanged(string Endpoint, string What, string Actor, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"endpoint:{Endpoint}";
}

/// <summary>A deployment moved between Creating, Updating, Healthy, Unhealthy, Deleting and Failed.</summary>
public sealed record DeploymentHealthChanged(string Endpoint, string Deployment, DeploymentState? From, DeploymentState To, string? Reason, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"endpoint:{Endpoint}:{Deployment}";
}

/// <summary>The split of an endpoint's traffic changed (by hand, by a rollout step, or by a rollback).</summary>
public sealed record TrafficChanged(string Endpoint, TrafficChange Change, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"endpoint:{Endpoint}";
}

/// <summary>A canary rollout moved on: a new step, completed, rolled back or stopped (design.md's DeploymentRolledOut).</summary>
public sealed record RolloutProgressed(string Endpoint, Guid RolloutId, RolloutState State, int? CanaryPercent, string Message, bool IsProblem, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"endpoint:{Endpoint}";
}
