using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
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

            DemoSeedingProgressed { State: DemoSeedState.Completed } e =>
                new("Demo data ready", $"All {e.Total} demo seeding steps are done.", LiveSeverity.Success, e.OccurredAt, "/"),

            DemoSeedingProgressed { State: DemoSeedState.Failed } e when viewer.IsIn(Roles.Admin) =>
                new("Demo seeding failed", $"Step '{e.Step}' failed: {e.Error}", LiveSeverity.Error, e.OccurredAt, "/"),

            _ => null,
        };
    }

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
