using System.Security.Claims;
using Portal.Domain.Common;

namespace Portal.Security;

public static class PortalClaims
{
    /// <summary>How the caller proved who they are: password, cookie, token or appservice.</summary>
    public const string AuthenticationMethod = "portal:auth-method";

    public const string TokenId = "portal:token-id";

    public static Actor ToActor(this ClaimsPrincipal user)
    {
        ArgumentNullException.ThrowIfNull(user);
        var name = user.Identity?.IsAuthenticated == true ? user.Identity.Name : null;
        return string.IsNullOrEmpty(name)
            ? Actor.Anonymous
            : new Actor(name, user.FindAll(ClaimTypes.Role).Select(c => c.Value));
    }

    public static bool IsTokenAuthenticated(this ClaimsPrincipal user) =>
        user.HasClaim(AuthenticationMethod, "token");
}
