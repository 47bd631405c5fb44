using Microsoft.AspNetCore.Identity;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;

namespace Portal.Security;

/// <summary>Browser sign-in: checks the password with lock-out, audits the outcome and announces the sign-in live.</summary>
public sealed class SignInService(
    SignInManager<PortalUser> signIn,
    SecurityEvents securityEvents,
    IEventBus bus,
    TimeProvider time)
{
    public async Task<SignInOutcome> SignInAsync(HttpContext context, string userName, string password, bool remember)
    {
        ArgumentNullException.ThrowIfNull(context);
        var user = await signIn.UserManager.FindByNameAsync(userName);
        if (user is null)
        {
            await securityEvents.SignInFailedAsync(context, userName, "unknown user");
            return SignInOutcome.Failed("Invalid user name or password.");
        }

        var result = await signIn.PasswordSignInAsync(user, password, remember, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            await securityEvents.LockedOutAsync(context, userName);
            var until = await signIn.UserManager.GetLockoutEndDateAsync(user);
            return SignInOutcome.Failed(until == DateTimeOffset.MaxValue
                ? "This account is locked by an administrator."
                : $"This account is locked after repeated failed sign-ins until {until:HH:mm} UTC. Try again later or ask an administrator.");
        }

        if (!result.Succeeded)
        {
            await securityEvents.SignInFailedAsync(context, userName, "wrong password");
            return SignInOutcome.Failed("Invalid user name or password.");
        }

        user.LastSignInAt = time.UtcNow();
        await signIn.UserManager.UpdateAsync(user);
        await securityEvents.SignedInAsync(context, user.UserName!, "password");
        bus.Publish(new UserSignedIn(user.UserName!, "password", time.UtcNow()));
        return SignInOutcome.Success;
    }
}

public sealed record SignInOutcome(bool Succeeded, string? Problem)
{
    public static SignInOutcome Success { get; } = new(true, null);

    public static SignInOutcome Failed(string problem) => new(false, problem);
}
