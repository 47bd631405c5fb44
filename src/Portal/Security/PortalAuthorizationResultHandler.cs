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

    internal static string Describe(AuthorizationFailure? failure)
    {
        var roles = failure?.FailedRequirements.OfType<RolesAuthorizationRequirement>()
            .SelectMany(r => r.AllowedRoles).Distinct().Order().ToList();
        if (roles is { Count: > 0 })
        {
            return "requires one of the roles " + string.Join(", ", roles);
        }

        var reasons = failure?.FailureReasons.Select(r => r.Message).ToList();
        return reasons is { Count: > 0 } ? string.Join("; ", reasons) : "is not allowed for your account";
    }
}
