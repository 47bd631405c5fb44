using System.Net.Http.Headers;
using System.Security.Claims;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Persistence;

namespace Portal.Security;

/// <summary>
/// <c>Authorization: Basic base64(user:password)</c> for scripts and MLflow clients. Failed attempts count
/// towards lock-out exactly as in the browser. A successful password check is remembered for a minute so a
/// chatty client does not pay for password hashing on every request; the account's lock-out and security
/// stamp are still read each time, so locking it or changing its roles takes effect at once.
/// </summary>
public sealed class BasicAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    SignInManager<PortalUser> signIn,
    IMemoryCache cache,
    SecurityEvents securityEvents)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Basic";
    private static readonly TimeSpan RememberFor = TimeSpan.FromMinutes(1);

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!AuthenticationHeaderValue.TryParse(Request.Headers.Authorization, out var header)
            || !SchemeName.Equals(header.Scheme, StringComparison.OrdinalIgnoreCase))
        {
            return AuthenticateResult.NoResult();
        }

        if (!TryDecode(header.Parameter, out var userName, out var password))
        {
            return AuthenticateResult.Fail("The Authorization header is not valid Basic credentials: send base64(user:password).");
        }

        var cacheKey = "basic:" + Infrastructure.Identity.CredentialKey.For(userName, password);
        var user = await signIn.UserManager.FindByNameAsync(userName);
        if (cache.TryGetValue(cacheKey, out RememberedCredential? remembered) && remembered is not null)
        {
            if (user is not null && user.SecurityStamp == remembered.SecurityStamp && !await signIn.UserManager.IsLockedOutAsync(user))
            {
                return Success(remembered.Principal);
            }

            cache.Remove(cacheKey);
        }

        if (user is null)
        {
            await securityEvents.SignInFailedAsync(Context, userName, "unknown user (Basic)");
            return AuthenticateResult.Fail("Invalid user name or password.");
        }

        var result = await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            await securityEvents.LockedOutAsync(Context, userName);
            return AuthenticateResult.Fail("The account is locked after repeated failed sign-ins. Try again later or ask an administrator.");
        }

        if (!result.Succeeded)
        {
            await securityEvents.SignInFailedAsync(Context, userName, "wrong password (Basic)");
            return AuthenticateResult.Fail("Invalid user name or password.");
        }

        var principal = await signIn.CreateUserPrincipalAsync(user);
        ((ClaimsIdentity)principal.Identity!).AddClaim(new Claim(PortalClaims.AuthenticationMethod, "password"));
        var rebuilt = new ClaimsPrincipal(new ClaimsIdentity(principal.Claims, SchemeName, ClaimTypes.Name, ClaimTypes.Role));
        cache.Set(cacheKey, new RememberedCredential(rebuilt, user.SecurityStamp), RememberFor);
        return Success(rebuilt);
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        await Problems.UnauthorizedAsync(Context, result.Failure?.Message ?? "Send a user name and password (Basic) or an access token (Bearer).");
    }

    private AuthenticateResult Success(ClaimsPrincipal principal) =>
        AuthenticateResult.Success(new AuthenticationTicket(principal, SchemeName));

    private sealed record RememberedCredential(ClaimsPrincipal Principal, string? SecurityStamp);

    private static bool TryDecode(string? parameter, out string userName, out string password)
    {
        userName = password = "";
        if (string.IsNullOrEmpty(parameter) || parameter.Length > 4096)
        {
            return false;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(parameter));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            if (colon <= 0)
            {
                return false;
            }

            userName = text[..colon];
            password = text[(colon + 1)..];
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
