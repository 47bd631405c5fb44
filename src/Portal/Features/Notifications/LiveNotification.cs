using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Infrastructure.Demo;

namespace Portal.Features.Notifications;

public enum LiveSeverity
{
    Info,
    Success,
    Warning,
    Error,
}

/// <summary>A domain event as one person should see it in the notification area.</summary>
public sealed record LiveNotification(string Summary, string Detail, LiveSeverity Severity, DateTime At, string? Link = null);

/// <summary>Decides which events reach whom, and in what words. Plain rules, tested one by one.</summary>
public static class NotificationRules
{
    public static LiveNotification? Describe(IDomainEvent domainEvent, Actor viewer)
    {
        ArgumentNullException.ThrowIfNull(viewer);
        return domainEvent switch
        {
            UserSignedIn e when viewer.IsIn(Roles.Admin) && e.UserName != viewer.Name =>
                new("Signed in", $"{e.UserName} signed in ({e.Method}).", LiveSeverity.Info, e.OccurredAt, "/admin"),

            // Anonymous calls are in the trail and the counts, but a misconfigured script should not toast every minute.
            AuditEntryRecorded e when e.IsSecurityEvent && e.Action != AuditActions.UnauthenticatedCall && viewer.IsIn(Roles.Admin) =>
                new(SecurityTitle(e.Action), $"{e.Entity}: {e.Reason}", LiveSeverity.Warning, e.OccurredAt, "/audit"),

            UserRolesChanged e when e.UserName == viewer.Name =>
                new("Your roles changed", $"{e.ChangedBy} set your roles to {string.Join(", ", e.Roles)}. You will be asked to sign in again.",
                    LiveSeverity.Warning, e.OccurredAt),

            ApprovalDecided e when (e.RequestedBy == viewer.Name || e.Author == viewer.Name) && e.Reviewer != viewer.Name => Decided(e),

            ApprovalRequested e when viewer.IsIn(e.ReviewerRole) && e.RequestedBy != viewer.Name =>
                new("Review requested", $"{e.RequestedBy} asks for approval of {e.Model} version {e.Version}.", LiveSeverity.Info, e.OccurredAt, $"/reviews/{e.RequestId}"),

            ModelVersionStateChanged { To: ModelState.Validated or ModelState.Failed } e when e.Author == viewer.Name =>
                new(e.To == ModelState.Validated ? "Checks passed" : "Checks failed",
                    e.To == ModelState.Validated ? $"{e.Model} version {e.Version} passed its checks; you can ask for approval." : $"{e.Model} version {e.Version}: {e.Reason}",
                    e.To == ModelState.Validated ? LiveSeverity.Success : LiveSeverity.Error, e.OccurredAt, $"/models/{e.Model}/versions/{e.Version}"),

            Domain.Monitoring.AlertRaised e when viewer.IsIn(Roles.Ops) || viewer.IsIn(Roles.Admin) || (viewer.IsIn(Roles.DataScientist) && e.Title.Contains("drift", StringComparison.OrdinalIgnoreCase)) =>
                new($"Alert: {e.Title}", e.Message, e.Severity == Domain.Monitoring.AlertSeverity.Critical ? LiveSeverity.Error : LiveSeverity.Warning, e.OccurredAt,
                    $"/deployments/{e.Source.Split(':').ElementAtOrDefault(1)}"),

            Domain.Deployments.RolloutProgressed { State: Domain.Deployments.RolloutState.Completed or Domain.Deployments.RolloutState.RolledBack } e when viewer.IsIn(Roles.Ops) || viewer.IsIn(Roles.Admin) =>
                new(e.State == Domain.Deployments.RolloutState.Completed ? $"Canary on {e.Endpoint} completed" : $"Canary on {e.Endpoint} rolled back", e.Message,
                    e.State == Domain.Deployments.RolloutState.Completed ? LiveSeverity.Success : LiveSeverity.Error, e.OccurredAt, $"/deployments/{e.Endpoint}"),

            Domain.Deployments.DeploymentHealthChanged { To: Domain.Deployments.DeploymentState.Unhealthy or Domain.Deployments.DeploymentState.Failed } e
                when viewer.IsIn(Roles.Ops) || viewer.IsIn(Roles.Admin) =>
                new($"{e.Endpoint}/{e.Deployment} is {e.To}", (e.Reason ?? "").Split('\n')[0], LiveSeverity.Error, e.OccurredAt, $"/deployments/{e.Endpoint}/{e.Deployment}"),

            DemoSeedingProgressed { State: DemoSeedState.Completed } e =>
                new("Demo data ready", $"All {e.Total} demo seeding steps are done.", LiveSeverity.Success, e.OccurredAt, "/"),

            DemoSeedingProgressed { State: DemoSeedState.Failed } e when viewer.IsIn(Roles.Admin) =>
                new("Demo seeding failed", $"Step '{e.Step}' failed: {e.Error}", LiveSeverity.Error, e.OccurredAt, "/"),

            _ => null,
        };
    }

    private static LiveNotification Decided(ApprovalDecided e) => e.Outcome switch
    {
        ApprovalState.Approved => new("Model approved", $"{e.Reviewer} approved {e.Model} version {e.Version}; the policy is met ({e.ApprovalsGiven} of {e.ApprovalsRequired}). “{e.Reason}”",
            LiveSeverity.Success, e.OccurredAt, $"/models/{e.Model}/versions/{e.Version}"),
        ApprovalState.Rejected => new("Model rejected", $"{e.Reviewer} rejected {e.Model} version {e.Version}: “{e.Reason}”",
            LiveSeverity.Error, e.OccurredAt, $"/models/{e.Model}/versions/{e.Version}"),
        _ => new("Approval given", $"{e.Reviewer} approved {e.Model} version {e.Version} ({e.ApprovalsGiven} of {e.ApprovalsRequired}). “{e.Reason}”",
            LiveSeverity.Info, e.OccurredAt, $"/models/{e.Model}/versions/{e.Version}"),
    };

    private static string SecurityTitle(string action) => action switch
    {
        AuditActions.SignInFailed => "Failed sign-in",
        AuditActions.LockedOut => "Account locked",
        AuditActions.TokenRejected => "Access token refused",
        AuditActions.ForgedPrincipalHeader => "Forged identity header",
        AuditActions.AccessDenied => "Access denied",
        _ => "Security event",
    };
}
