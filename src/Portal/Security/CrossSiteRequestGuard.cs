using Microsoft.AspNetCore.Identity;

namespace Portal.Security;

/// <summary>
/// Browsers send the session cookie with any request to the portal, even one a hostile page triggers.
/// API calls that change something and ride on the cookie must therefore carry the
/// <see cref="HeaderName"/> header, which a cross-site page cannot add without the portal's consent
/// (CORS). Scripts authenticating with Basic or a token are unaffected.
/// </summary>
internal sealed class CrossSiteRequestGuard(RequestDelegate next)
{
    public const string HeaderName = "X-Portal-Request";

    public async Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (Problems.IsApiRequest(request) && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method)
            && context.User.Identity is { IsAuthenticated: true, AuthenticationType: var type } && type == IdentityConstants.ApplicationScheme
            && !request.Headers.ContainsKey(HeaderName))
        {
            await Problems.WriteAsync(context, StatusCodes.Status403Forbidden, "Cross-site request refused",
                $"Changes through the API with a browser session must come from the portal's own pages (header {HeaderName}); scripts use Basic or a token.");
            return;
        }

        await next(context);
    }
}
