using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;

namespace Portal.Infrastructure.Demo;

/// <summary>Creates the demo accounts with the demo password.</summary>
internal sealed class DemoUsersStep(AuditChainInterceptor audit, TimeProvider time) : IDemoSeedStep
{
    public string Name => "users";

    public int Order => 0;

    public bool BeforeStartup => true;

    public string Description => "Demo accounts, one per role";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var users = context.Services.GetRequiredService<UserManager<PortalUser>>();
        var db = context.Services.GetRequiredService<PortalDbContext>();
        // All accounts or none: a refused password must not leave half the demo users behind.
        await using var transaction = await audit.BeginTransactionAsync(db, cancellationToken);
        foreach (var demo in DemoUsers.All)
        {
            if (await users.FindByNameAsync(demo.Email) is not null)
            {
                continue;
            }

            var user = new PortalUser
            {
                UserName = demo.Email, Email = demo.Email, EmailConfirmed = true,
                DisplayName = demo.DisplayName, Team = demo.Team, CreatedAt = time.UtcNow(),
            };
            var created = await users.CreateAsync(user, context.Password);
            if (!created.Succeeded)
            {
                throw new InvalidOperationException(
                    "Portal:Demo:Password is not accepted as a password: " + string.Join(" ", created.Errors.Select(e => e.Description)));
            }

            var added = await users.AddToRoleAsync(user, demo.Role);
            if (!added.Succeeded)
            {
                throw new InvalidOperationException($"Could not give {demo.Email} the role {demo.Role}: " + string.Join(" ", added.Errors.Select(e => e.Description)));
            }

            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.UserCreated, $"user:{demo.Email}", time,
                after: "roles=" + demo.Role, reason: "demo account"));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
