using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;

namespace Portal.Infrastructure.Identity;

/// <summary>
/// Keeps a local record of people the hosting platform (Entra ID via App Service authentication) signs in,
/// so their preferences and tokens have an owner, and their stored roles follow the platform's.
/// </summary>
public sealed class PlatformUsers(IServiceScopeFactory scopes, IMemoryCache cache, AuditChainInterceptor audit, IEventBus bus, TimeProvider time)
{
    private static readonly TimeSpan RecheckAfter = TimeSpan.FromMinutes(5);

    public async Task EnsureAsync(string userName, IReadOnlyList<string> roles, CancellationToken cancellationToken)
    {
        var key = $"platform-user:{userName}:{string.Join(',', roles)}";
        if (cache.TryGetValue(key, out _))
        {
            return;
        }

        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await using var transaction = await audit.BeginTransactionAsync(db, cancellationToken);
        var user = await users.FindByNameAsync(userName);
        var firstSight = user is null;
        if (user is null)
        {
            user = new PortalUser
            {
                UserName = userName, Email = userName.Contains('@', StringComparison.Ordinal) ? userName : null,
                EmailConfirmed = true, Source = "appservice", CreatedAt = time.UtcNow(),
            };
            var created = await users.CreateAsync(user);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException($"Could not record platform user {userName}: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }

            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.UserCreated, $"user:{userName}", time,
                after: "roles=" + string.Join(",", roles), reason: "first sign-in through App Service authentication"));
        }

        var current = await users.GetRolesAsync(user);
        if (!current.Order(StringComparer.Ordinal).SequenceEqual(roles))
        {
            await users.RemoveFromRolesAsync(user, current.Except(roles));
            await users.AddToRolesAsync(user, roles.Except(current));
            if (!firstSight)
            {
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.RolesChanged, $"user:{userName}", time,
                    before: string.Join(",", current.Order()), after: string.Join(",", roles), reason: "app roles changed in Entra ID"));
            }
        }

        user.LastSignInAt = time.UtcNow();
        await users.UpdateAsync(user);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        cache.Set(key, true, RecheckAfter);
        if (firstSight)
        {
            bus.Publish(new UserSignedIn(userName, "appservice", time.UtcNow()));
        }
    }
}
