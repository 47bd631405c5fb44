using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Portal.Security;

/// <summary>
/// Every refusal of a signed-in caller is a security event: it is audited, and scripts get a problem
/// answer naming what they lack. Browsers go on to the access-denied page.
/// </summary>
public sealed class PortalAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(authorizeResult);
        if (authorizeResult.Challenged && Problems.IsApiRequest(context.Request) && !PresentsCredentials(context.Request))
        {
            await context.RequestServices.GetRequiredService<SecurityEvents>().UnauthenticatedCallAsync(context);
        }

        if (authorizeResult.Forbidden)
        {
            var actor = context.User.ToActor();
            var requirement = Describe(authorizeResult.AuthorizationFailure);
            await context.RequestServices.GetRequiredService<SecurityEvents>().AccessDeniedAsync(context, actor, requirement);
            if (Problems.IsApiRequest(context.Request))
            {
                var held = actor.Roles.Count == 0 ? "no role" : string.Join(", ", actor.Roles.Order());
                await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden",
                    $"{actor.Name} ({held}) may not do this: it {requirement}.");
                return;
            }
        }

        await _default.HandleAsync(next, context, policy, authorizeResult);
    }

    /// <summary>Credentials of any kind; refused ones are audited by the handler that refused them.</summary>
    private static bool PresentsCredentials(HttpRequest request) =>
        request.Headers.Authorization.Count > 0
        || request.Headers.ContainsKey(AppServiceAuthenticationHandler.PrincipalHeader)
        || AccessTokenAuthenticationHandler.PresentedToken(request) is not null;

    /// <summary>What a page or endpoint allowed to <paramref name="roles"/> requires, in the words the audit and the access-denied page both use.</summary>
    public static string Requires(IEnumerable<string> roles)
    {
        var names = roles.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return names.Count == 1 ? $"requires the role {names[0]}" : "requires one of the roles " + string.Join(", ", names);
    }

    internal static string Describe(AuthorizationFailure? failure)
    {
        var roles = failure?.FailedRequirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).ToList();
        if (roles is { Count: > 0 })
        {
            return Requires(roles);
        }

        var reasons = failure?.FailureReasons.Select(r => r.Message).ToList();
        return reasons is { Count: > 0 } ? string.Join("; ", reasons) : "is not allowed for your account";
    }
}
