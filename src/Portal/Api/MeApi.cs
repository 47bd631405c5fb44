using System.Security.Claims;
using Portal.Security;

namespace Portal.Api;

internal static class MeApi
{
    /// <summary><c>GET /api/v1/me</c>: who the credentials belong to, so a script can check its token.</summary>
    public static void MapMeApi(this RouteGroupBuilder api)
    {
        api.MapGet("/me", (ClaimsPrincipal user) =>
        {
            var actor = user.ToActor();
            return TypedResults.Ok(new MeResponse(actor.Name, actor.Roles.Order().ToList(),
                user.FindFirstValue(PortalClaims.AuthenticationMethod) ?? "cookie"));
        }).WithSummary("Who am I");
    }
}

internal sealed record MeResponse(string UserName, IReadOnlyList<string> Roles, string AuthenticationMethod);
