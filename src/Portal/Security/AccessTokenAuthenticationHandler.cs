using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Security;

/// <summary>
/// <c>Authorization: Bearer mlp_…</c> personal access tokens. Browsers' WebSocket clients cannot set
/// headers, so on hub routes the token may come as the <c>access_token</c> query parameter instead.
/// </summary>
public sealed class AccessTokenAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    AccessTokenService tokens,
    IUserClaimsPrincipalFactory<PortalUser> principals,
    SecurityEvents securityEvents)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AccessToken";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var secret = PresentedToken(Request);
        if (secret is null)
        {
            return AuthenticateResult.NoResult();
        }

        var check = await tokens.CheckAsync(secret, Context.RequestAborted);
        if (check.Result != TokenCheckResult.Valid)
        {
            var entity = check.Token is { } token ? AccessTokenService.TokenRef(token) : "token:unknown";
            await securityEvents.TokenRejectedAsync(Context, entity, check.Result.ToString().ToLowerInvariant());
            return AuthenticateResult.Fail(check.Problem);
        }

        var principal = await principals.CreateAsync(check.User!);
        var claims = principal.Claims.Append(new Claim(PortalClaims.AuthenticationMethod, "token"))
            .Append(new Claim(PortalClaims.TokenId, check.Token!.Id.ToString()));
        return AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role)), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await Problems.UnauthorizedAsync(Context, result.Failure?.Message ?? "Send a personal access token as 'Authorization: Bearer <token>'.");
    }

    internal static string? PresentedToken(HttpRequest request)
    {
        if (AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            && "Bearer".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return header.Parameter ?? "";
        }

        return request.Path.StartsWithSegments("/hubs") && request.Query.TryGetValue("access_token", out var value)
            ? value.ToString()
            : null;
    }
}
