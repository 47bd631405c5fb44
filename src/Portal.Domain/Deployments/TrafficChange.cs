namespace Portal.Domain.Deployments;

/// <summary>How a traffic change came about.</summary>
public enum TrafficChangeKind
{
    /// <summary>Someone set the split (traffic editor, API).</summary>
    Manual,

    /// <summary>A canary rollout moved to its next step, or completed.</summary>
    Rollout,

    /// <summary>A gate was breached, or the canary failed: traffic went back without anyone asking.</summary>
    AutomaticRollback,

    /// <summary>Someone pressed Roll back, or stopped a rollout.</summary>
    Rollback,
}

/// <summary>One change of an endpoint's traffic, with the split before and after; the audit trail has the same.</summary>
/// <param name="Settled">
/// The split stood as meant: set by hand, by a rollback, or the last step of a canary that completed. A canary's
/// intermediate steps are not, so rolling back never lands on one.
/// </param>
public sealed record TrafficChange(DateTime At, string Actor, TrafficAssignment Before, TrafficAssignment After, TrafficChangeKind Kind, string? Reason, bool Settled = true);
