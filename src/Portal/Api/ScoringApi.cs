using Portal.Domain.Identity;
using Portal.Infrastructure.Serving;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// <c>POST /score/{endpoint}</c>. Who may call it is decided here, from the request's principal: an endpoint key
/// opens its own endpoint; a person (Basic or personal token) needs a role that works with models in production
/// (data scientist, Ops, administrator). Everything else is the gateway's.
/// </summary>
internal static class ScoringApi
{
    private static readonly string[] ScoringRoles = [Roles.DataScientist, Roles.Ops, Roles.Admin];

    public static void MapScoringApi(this WebApplication app)
    {
        app.MapPost("/score/{endpoint}", ScoreAsync)
            .AllowAnonymous()
            .DisableAntiforgery()
            .WithTags("Scoring")
            .WithSummary("Score rows with an endpoint: {inputs:[{feature: value}]} → {predictions:[…]}; header x-deployment names who answered")
            .WithMetadata(new Microsoft.AspNetCore.Mvc.RequestSizeLimitAttribute(100 * 1024 * 1024));
    }

    private static async Task ScoreAsync(string endpoint, HttpContext context, ScoringGateway gateway, SecurityEvents security)
    {
        var user = context.User;
        if (user.Identity?.IsAuthenticated != true)
        {
            var failure = context.Features.Get<Microsoft.AspNetCore.Authentication.IAuthenticateResultFeature>()?.AuthenticateResult?.Failure?.Message;
            if (failure is null)
            {
                await security.UnauthenticatedCallAsync(context);
            }

            await Problems.UnauthorizedAsync(context, failure ?? "Send the endpoint's key ('Authorization: Bearer mlk_…'), a personal access token, or Basic credentials.");
            return;
        }

        var keyEndpoint = user.FindFirst(EndpointKeyAuthenticationHandler.EndpointClaim)?.Value;
        if (keyEndpoint is not null ? keyEndpoint != endpoint : !ScoringRoles.Any(user.IsInRole))
        {
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Forbidden", keyEndpoint is not null
                ? $"This key belongs to endpoint {keyEndpoint}, not to {endpoint}."
                : "Scoring needs the endpoint's key, or the role DataScientist, Ops or Admin.");
            return;
        }

        await gateway.ScoreAsync(context, endpoint);
    }
}
