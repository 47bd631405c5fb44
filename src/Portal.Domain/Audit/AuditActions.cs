namespace Portal.Domain.Audit;

/// <summary>
/// The names of audited actions. Security events (something was refused or looked forged) share the
/// "security." prefix; ordinary sign-ins are recorded under "user.".
/// </summary>
public static class AuditActions
{
    public const string SignedIn = "user.signed-in";
    public const string SignInFailed = "security.sign-in-failed";
    public const string LockedOut = "security.locked-out";
    public const string TokenRejected = "security.token-rejected";
    public const string ForgedPrincipalHeader = "security.forged-principal-header";
    public const string AccessDenied = "security.access-denied";
    public const string UnauthenticatedCall = "security.unauthenticated-call";

    public const string TokenIssued = "token.issued";
    public const string TokenRevoked = "token.revoked";

    public const string UserCreated = "user.created";
    public const string RolesChanged = "user.roles-changed";
    public const string UserLocked = "user.locked";
    public const string UserUnlocked = "user.unlocked";

    public const string PortalInitialized = "portal.initialized";
    public const string DemoSeeded = "demo.seeded";

    public const string ModelVersionRegistered = "model.version-registered";
    public const string ModelStateChanged = "model.state-changed";
    public const string ModelCardEdited = "model.card-edited";

    /// <summary>An alias (champion, production…) moved to a version or was removed; before and after name the versions.</summary>
    public const string ModelAliasChanged = "model.alias-changed";

    /// <summary>An MLflow stage label (Staging, Production…) changed through the MLflow API.</summary>
    public const string ModelStageChanged = "model.stage-changed";

    /// <summary>A registered model's or version's description or tags changed through the MLflow API.</summary>
    public const string ModelAnnotated = "model.annotated";

    public const string ModelDeleted = "model.deleted";
    public const string ModelVersionDeleted = "model.version-deleted";

    /// <summary>Someone tried to move a protected alias or stage onto a version that is not approved.</summary>
    public const string AliasRefused = "security.alias-refused";
    public const string ApprovalRequested = "approval.requested";
    public const string ApprovalDecided = "approval.decided";
    public const string ApprovalClosed = "approval.closed";

    /// <summary>Someone tried to decide on a request they may not decide on (their own model, wrong role).</summary>
    public const string ApprovalRefused = "security.approval-refused";
    public const string PolicyChanged = "policy.changed";

    /// <summary>Someone downloaded the original bytes of a dataset version holding personal data.</summary>
    public const string RawDataDownloaded = "dataset.raw-downloaded";

    /// <summary>Someone without the right asked for raw personal data (a file, an artifact or log made from it).</summary>
    public const string RawDataRefused = "security.raw-data-refused";

    public const string EndpointCreated = "endpoint.created";
    public const string EndpointDeleted = "endpoint.deleted";
    public const string DeploymentCreated = "deployment.created";
    public const string DeploymentUpdated = "deployment.updated";
    public const string DeploymentDeleted = "deployment.deleted";

    /// <summary>The backend found a deployment unhealthy or failed (and when it recovered).</summary>
    public const string DeploymentHealthChanged = "deployment.health-changed";

    /// <summary>An endpoint's traffic split or mirror changed; before and after are the assignments.</summary>
    public const string TrafficChanged = "endpoint.traffic-changed";
    public const string RolloutStarted = "rollout.started";

    /// <summary>A rollout stepped, completed, rolled back by itself or was stopped.</summary>
    public const string RolloutProgressed = "rollout.progressed";
    public const string EndpointKeyRegenerated = "endpoint.key-regenerated";

    /// <summary>A scoring call presented a key that is not the endpoint's.</summary>
    public const string EndpointKeyRejected = "security.endpoint-key-rejected";
    public const string AlertRuleChanged = "alert.rule-changed";
    public const string AlertRaised = "alert.raised";
    public const string AlertAcknowledged = "alert.acknowledged";
    public const string AlertResolved = "alert.resolved";
    public const string RetrainStarted = "alert.retrain-started";
    public const string PriceCardChanged = "cost.price-card-changed";
    public const string BudgetChanged = "cost.budget-changed";
    public const string CostExportImported = "cost.export-imported";

    /// <summary>The idle-GPU policy canceled a training job whose GPUs stayed idle past its limit.</summary>
    public const string IdleJobCanceled = "gpu.idle-job-canceled";

    public static bool IsSecurityEvent(string action) =>
        action.StartsWith("security.", StringComparison.Ordinal);
}
