using System.Security.Claims;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Security;

/// <summary>
/// A browser circuit lives for hours; every minute it checks the person still exists, is not locked, its
/// server-side session was not ended (signed out elsewhere) and has the same security stamp (changed by
/// role changes and locks), and signs the circuit out otherwise.
/// </summary>
internal sealed class RevalidatingIdentityStateProvider(
    ILoggerFactory loggerFactory,
    IServiceScopeFactory scopes,
    IOptions<IdentityOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => TimeSpan.FromMinutes(1);

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var principal = authenticationState.User;
        var user = await users.FindByNameAsync(principal.Identity?.Name ?? "");
        if (user is null || await users.IsLockedOutAsync(user))
        {
            return false;
        }

        // Signed out in another tab, or ended by a lock-out: the server-side session is gone.
        if (principal.FindFirstValue(BrowserSessionStore.SessionClaim) is { } session
            && !await scope.ServiceProvider.GetRequiredService<BrowserSessionStore>().ExistsAsync(session))
        {
            return false;
        }

        var principalStamp = principal.FindFirstValue(options.Value.ClaimsIdentity.SecurityStampClaimType);
        // Platform (App Service) sign-ins carry no stamp; the platform re-asserts them on every request.
        return principalStamp is null || principalStamp == await users.GetSecurityStampAsync(user);
    }
}
