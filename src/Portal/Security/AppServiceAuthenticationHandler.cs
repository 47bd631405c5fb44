using System.Net;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;

namespace Portal.Security;

/// <summary>
/// Signs people in from the <c>X-MS-CLIENT-PRINCIPAL</c> header of Azure App Service / Container Apps
/// authentication, mapping Entra ID app roles to portal roles. The header is believed only from loopback
/// or a configured proxy; from anywhere else it is refused and audited as forged.
/// </summary>
public sealed class AppServiceAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IOptions<AuthOptions> auth,
    PlatformUsers platformUsers,
    SecurityEvents securityEvents)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "AppService";
    public const string PrincipalHeader = "X-MS-CLIENT-PRINCIPAL";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var settings = auth.Value.AppServiceAuthentication;
        if (!settings.Enabled || !Request.Headers.TryGetValue(PrincipalHeader, out var encoded))
        {
            return AuthenticateResult.NoResult();
        }

        var platform = ClientPrincipal.TryParse(encoded.ToString());
        if (!IsTrustedProxy(Context.Connection.RemoteIpAddress, settings.TrustedProxies))
        {
            await securityEvents.ForgedPrincipalHeaderAsync(Context, platform?.Name ?? Request.Headers["X-MS-CLIENT-PRINCIPAL-NAME"].ToString());
            return AuthenticateResult.Fail($"{PrincipalHeader} is only accepted from the platform's authentication front end; this request did not come through it.");
        }

        if (platform?.Name is not { Length: > 0 } name)
        {
            return AuthenticateResult.Fail($"{PrincipalHeader} is not a valid client principal (base64 JSON with a name claim).");
        }

        var roles = MapRoles(platform.Roles, settings);
        await platformUsers.EnsureAsync(name, roles, Context.RequestAborted);
        var claims = new List<Claim>
        {
            new(ClaimTypes.Name, name),
            new(ClaimTypes.Email, name),
            new(PortalClaims.AuthenticationMethod, "appservice"),
        };
        claims.AddRange(roles.Select(r => new Claim(ClaimTypes.Role, r)));
        return AuthenticateResult.Success(new AuthenticationTicket(
            new ClaimsPrincipal(new ClaimsIdentity(claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role)), SchemeName));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await Problems.UnauthorizedAsync(Context, result.Failure?.Message ?? "Sign in through the platform.");
    }

    internal static IReadOnlyList<string> MapRoles(IEnumerable<string> appRoles, AppServiceAuthenticationOptions settings)
    {
        var mapped = appRoles
            .Select(r => settings.RoleMap.TryGetValue(r, out var ours) ? ours : r)
            .Where(Roles.IsKnown)
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        if (mapped.Count == 0 && settings.DefaultRole is { } fallback && Roles.IsKnown(fallback))
        {
            mapped.Add(fallback);
        }

        return mapped;
    }

    internal static bool IsTrustedProxy(IPAddress? address, IEnumerable<string> trusted)
    {
        if (address is null)
        {
            return false;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address))
        {
            return true;
        }

        foreach (var entry in trusted)
        {
            if (IPNetwork.TryParse(entry, out var network) ? network.Contains(address)
                : IPAddress.TryParse(entry, out var single) && single.Equals(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The decoded header: <c>{auth_typ, name_typ, role_typ, claims:[{typ, val}]}</c>.</summary>
    internal sealed record ClientPrincipal(string? Name, IReadOnlyList<string> Roles)
    {
        public static ClientPrincipal? TryParse(string base64)
        {
            try
            {
                using var json = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(base64)));
                var root = json.RootElement;
                var nameType = root.TryGetProperty("name_typ", out var n) ? n.GetString() : ClaimTypes.Name;
                var roleType = root.TryGetProperty("role_typ", out var r) ? r.GetString() : "roles";
                var claims = root.TryGetProperty("claims", out var c) && c.ValueKind == JsonValueKind.Array
                    ? c.EnumerateArray().Select(x => (Type: x.GetProperty("typ").GetString(), Value: x.GetProperty("val").GetString())).ToList()
                    : [];
                var name = claims.FirstOrDefault(x => x.Type == nameType).Value
                    ?? claims.FirstOrDefault(x => x.Type is "preferred_username" or ClaimTypes.Email or "email").Value;
                var roles = claims.Where(x => x.Type == roleType || x.Type == ClaimTypes.Role).Select(x => x.Value!).ToList();
                return new ClientPrincipal(name, roles);
            }
            catch (Exception ex) when (ex is FormatException or JsonException or KeyNotFoundException or InvalidOperationException)
            {
                return null;
            }
        }
    }
}
