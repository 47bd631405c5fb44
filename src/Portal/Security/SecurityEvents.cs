using Microsoft.Extensions.Caching.Memory;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Infrastructure.Audit;

namespace Portal.Security;

/// <summary>Records security events in the audit trail, with the caller's address.</summary>
public sealed class SecurityEvents(AuditTrail audit, IMemoryCache cache)
{
    /// <summary>Anonymous calls are recorded at most once per client address in this time, so a flood cannot flood the trail.</summary>
    public static readonly TimeSpan UnauthenticatedCallWindow = TimeSpan.FromMinutes(1);

    public Task SignInFailedAsync(HttpContext context, string userName, string reason) =>
        RecordAsync(context, Actor.Anonymous, AuditActions.SignInFailed, $"user:{Clip(userName)}", reason);

    public Task LockedOutAsync(HttpContext context, string userName) =>
        RecordAsync(context, Actor.Anonymous, AuditActions.LockedOut, $"user:{Clip(userName)}",
            "too many failed sign-ins; the account is locked for a while");

    public Task SignedInAsync(HttpContext context, string userName, string method) =>
        RecordAsync(context, new Actor(userName), AuditActions.SignedIn, $"user:{userName}", $"via {method}");

    public Task TokenRejectedAsync(HttpContext context, string entity, string reason) =>
        RecordAsync(context, Actor.Anonymous, AuditActions.TokenRejected, entity, reason);

    public Task ForgedPrincipalHeaderAsync(HttpContext context, string claimedName) =>
        RecordAsync(context, Actor.Anonymous, AuditActions.ForgedPrincipalHeader, $"user:{Clip(claimedName)}",
            "X-MS-CLIENT-PRINCIPAL sent by an address that is not a trusted proxy");

    public Task AccessDeniedAsync(HttpContext context, Actor actor, string requirement) =>
        RecordAsync(context, actor, AuditActions.AccessDenied, $"route:{Clip(context.Request.Method + " " + context.Request.Path)}", requirement);

    /// <summary>A script route or hub was called with no credentials at all (bad credentials are recorded by their handler).</summary>
    public Task UnauthenticatedCallAsync(HttpContext context)
    {
        var key = $"unauthenticated-call:{context.Connection.RemoteIpAddress}";
        if (cache.TryGetValue(key, out _))
        {
            return Task.CompletedTask;
        }

        cache.Set(key, true, UnauthenticatedCallWindow);
        return RecordAsync(context, Actor.Anonymous, AuditActions.UnauthenticatedCall,
            $"route:{Clip(context.Request.Method + " " + context.Request.Path)}",
            $"no credentials; further anonymous calls from this address in the next {UnauthenticatedCallWindow.TotalMinutes:0} minute(s) are not recorded");
    }

    /// <summary>
    /// A scoring call presented a key that is not the endpoint's; recorded at most once per address and endpoint
    /// a minute, since a misconfigured client retries many times a second.
    /// </summary>
    public Task EndpointKeyRejectedAsync(HttpContext context, string endpoint)
    {
        var key = $"endpoint-key-rejected:{context.Connection.RemoteIpAddress}:{endpoint}";
        if (cache.TryGetValue(key, out _))
        {
            return Task.CompletedTask;
        }

        cache.Set(key, true, UnauthenticatedCallWindow);
        return RecordAsync(context, Actor.Anonymous, AuditActions.EndpointKeyRejected, $"endpoint:{Clip(endpoint)}",
            "the key is not one of the endpoint's; further refusals from this address in the next minute are not recorded");
    }

    /// <summary>A signed-in person navigated, inside their open session, to a page their roles do not allow.</summary>
    public Task PageDeniedAsync(Actor actor, string path, string requirement) =>
        audit.RecordAsync(actor, AuditActions.AccessDenied, $"route:GET {Clip(path)}", after: "in the browser session", reason: requirement,
            cancellationToken: CancellationToken.None);

    private Task RecordAsync(HttpContext context, Actor actor, string action, string entity, string reason) =>
        audit.RecordAsync(actor, action, entity, after: $"from {context.Connection.RemoteIpAddress}", reason: reason,
            cancellationToken: CancellationToken.None);

    private static string Clip(string value) => value.Length <= 256 ? value : value[..256] + "…";
}
