using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Serving;

namespace Portal.Security;

/// <summary>
/// Azure ML-style key authentication for scoring: <c>Authorization: Bearer mlk_…</c> on <c>/score/{endpoint}</c>.
/// The key is compared by its SHA-256 with the endpoint's primary and secondary keys held in the gateway's
/// routes (no database read per request). A key opens its own endpoint only.
/// </summary>
public sealed class EndpointKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ServingTable routes,
    SecurityEvents securityEvents)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "EndpointKey";

    /// <summary>The endpoint the key belongs to.</summary>
    public const string EndpointClaim = "portal:endpoint";

    /// <summary>Scoring calls with a bearer value shaped like an endpoint key.</summary>
    public static bool Applies(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Path.StartsWithSegments("/score")
            && AuthenticationHeaderValue.TryParse(request.Headers.Authorization, out var header)
            && "Bearer".Equals(header.Scheme, StringComparison.OrdinalIgnoreCase)
            && header.Parameter?.StartsWith(EndpointService.KeyPrefix, StringComparison.Ordinal) == true;
    }

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header) || header.Parameter is not { Length: > 0 and < 200 } key)
        {
            return AuthenticateResult.NoResult();
        }

        if (routes.FindKey(EndpointService.Hash(key)) is not { } found)
        {
            var endpoint = Request.Path.Value?.Split('/', StringSplitOptions.RemoveEmptyEntries).ElementAtOrDefault(1) ?? "";
            await securityEvents.EndpointKeyRejectedAsync(Context, endpoint);
            return AuthenticateResult.Fail("The key is not a key of this endpoint; copy it from the endpoint's Keys tab, or regenerate it there.");
        }

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.Name, $"key:{found.Endpoint.Name}:{found.Key.ToString().ToLowerInvariant()}"),
            new Claim(EndpointClaim, found.Endpoint.Name),
            new Claim(PortalClaims.AuthenticationMethod, "endpoint-key"),
        ], SchemeName, ClaimTypes.Name, ClaimTypes.Role);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await Problems.UnauthorizedAsync(Context, result.Failure?.Message ?? "Send the endpoint's key as 'Authorization: Bearer <key>'.");
    }
}
