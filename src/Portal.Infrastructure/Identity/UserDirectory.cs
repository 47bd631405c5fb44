using System.Net.Mail;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;

namespace Portal.Infrastructure.Identity;

/// <summary>
/// Administration of people and their roles. Each change runs in its own scope and transaction, and its
/// audit entry is written in that same transaction.
/// </summary>
public sealed class UserDirectory(IServiceScopeFactory scopes, IDbContextFactory<PortalDbContext> dbFactory, AuditChainInterceptor audit, IEventBus bus,
    BrowserSessionStore sessions, TimeProvider time)
{
    public const int MaxPageSize = 200;

    public async Task<UserPage> SearchAsync(UserQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var users = db.Users.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Search))
        {
            var text = query.Search.Trim().ToUpperInvariant();
            users = users.Where(u => u.NormalizedUserName!.Contains(text) || (u.DisplayName != null && u.DisplayName.ToUpper().Contains(text)));
        }

        if (!string.IsNullOrWhiteSpace(query.Role))
        {
            users = users.Where(u => db.UserRoles.Any(ur => ur.UserId == u.Id && db.Roles.Any(r => r.Id == ur.RoleId && r.Name == query.Role)));
        }

        users = (query.SortBy, query.Descending) switch
        {
            (UserSort.DisplayName, false) => users.OrderBy(u => u.DisplayName).ThenBy(u => u.UserName),
            (UserSort.DisplayName, true) => users.OrderByDescending(u => u.DisplayName).ThenBy(u => u.UserName),
            (UserSort.LastSignIn, false) => users.OrderBy(u => u.LastSignInAt).ThenBy(u => u.UserName),
            (UserSort.LastSignIn, true) => users.OrderByDescending(u => u.LastSignInAt).ThenBy(u => u.UserName),
            (UserSort.Created, false) => users.OrderBy(u => u.CreatedAt).ThenBy(u => u.UserName),
            (UserSort.Created, true) => users.OrderByDescending(u => u.CreatedAt).ThenBy(u => u.UserName),
            (_, true) => users.OrderByDescending(u => u.UserName),
            _ => users.OrderBy(u => u.UserName),
        };

        var total = await users.CountAsync(cancellationToken);
        var page = await users.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, MaxPageSize)).ToListAsync(cancellationToken);
        var ids = page.Select(u => u.Id).ToList();
        var roles = await (from ur in db.UserRoles
                           join r in db.Roles on ur.RoleId equals r.Id
                           where ids.Contains(ur.UserId)
                           select new { ur.UserId, r.Name }).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        var summaries = page.Select(u => new UserSummary(
            u.UserName!, u.DisplayName, u.Team, u.Source,
            roles.Where(r => r.UserId == u.Id).Select(r => r.Name!).Order().ToList(),
            u.LockoutEnd is { } end && end > now ? end.UtcDateTime : null,
            u.LastSignInAt, u.CreatedAt)).ToList();
        return new UserPage(summaries, total);
    }

    /// <summary>One person, or null when there is no such account.</summary>
    public async Task<UserSummary?> FindAsync(string userName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var normalized = userName.Trim().ToUpperInvariant();
        var id = await db.Users.AsNoTracking().Where(u => u.NormalizedUserName == normalized).Select(u => u.UserName).FirstOrDefaultAsync(cancellationToken);
        return id is null ? null : (await SearchAsync(new UserQuery(id, Take: MaxPageSize), cancellationToken)).Users.FirstOrDefault(u => u.UserName == id);
    }

    /// <summary>The name to greet someone by: their display name, or their user name when they have none.</summary>
    public async Task<string> DisplayNameOfAsync(string userName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => u.UserName == userName).Select(u => u.DisplayName).SingleOrDefaultAsync(cancellationToken) ?? userName;
    }

    /// <summary>How many people there are, and how many of them are locked now.</summary>
    public async Task<(int People, int Locked)> CountAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var people = await db.Users.CountAsync(cancellationToken);
        // LockoutEnd is a DateTimeOffset, which SQLite cannot compare in SQL; the locked few are counted here.
        var lockouts = await db.Users.Where(u => u.LockoutEnd != null).Select(u => u.LockoutEnd).ToListAsync(cancellationToken);
        var now = time.GetUtcNow();
        return (people, lockouts.Count(end => end > now));
    }

    public async Task<IReadOnlyList<string>> RolesOfAsync(string userName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await (from u in db.Users
                      join ur in db.UserRoles on u.Id equals ur.UserId
                      join r in db.Roles on ur.RoleId equals r.Id
                      where u.UserName == userName
                      orderby r.Name
                      select r.Name!).ToListAsync(cancellationToken);
    }

    /// <summary>Creates a local account. Returns the problems with the input, if any; nothing is written then.</summary>
    public async Task<FieldErrors> CreateAsync(Actor admin, NewUser input, CancellationToken cancellationToken = default)
    {
        RequireAdmin(admin, "create accounts");
        ArgumentNullException.ThrowIfNull(input);
        var errors = new FieldErrors();
        // Only spaces are forgiven: a newline or tab after the address is refused, not silently cut.
        var email = input.Email?.Trim(' ') ?? "";
        if (!MailAddress.TryCreate(email, out var parsed) || parsed.Address != email)
        {
            errors.Add(nameof(NewUser.Email), "Enter an e-mail address such as name@example.com; it is the user name.");
        }

        if (input.DisplayName is { Length: > 200 })
        {
            errors.Add(nameof(NewUser.DisplayName), "The display name is at most 200 characters.");
        }
        else if (!string.IsNullOrWhiteSpace(input.DisplayName) && Names.FreeTextProblem(input.DisplayName.Trim(' '), "Display name", 200) is { } displayProblem)
        {
            errors.Add(nameof(NewUser.DisplayName), displayProblem);
        }

        if (!string.IsNullOrWhiteSpace(input.Team) && Names.FreeTextProblem(input.Team.Trim(' '), "Team", 100) is { } teamProblem)
        {
            errors.Add(nameof(NewUser.Team), teamProblem);
        }

        ValidateRoles(input.Roles, errors);
        if (!errors.IsEmpty)
        {
            return errors;
        }

        return await ChangeAsync(errors, async users =>
        {
            var user = new PortalUser
            {
                UserName = email, Email = email, EmailConfirmed = true,
                DisplayName = string.IsNullOrWhiteSpace(input.DisplayName) ? null : input.DisplayName.Trim(),
                Team = string.IsNullOrWhiteSpace(input.Team) ? null : input.Team.Trim(),
                CreatedAt = time.UtcNow(),
            };
            var created = await users.CreateAsync(user, input.Password ?? "");
            var added = created.Succeeded ? await users.AddToRolesAsync(user, input.Roles) : created;
            if (!added.Succeeded)
            {
                IdentityErrors(added, errors);
                return null;
            }

            return AuditEntry.Record(admin, AuditActions.UserCreated, UserRef(email), time, after: "roles=" + string.Join(",", input.Roles.Order()));
        }, cancellationToken);
    }

    /// <summary>Replaces a person's roles. At least one administrator always remains.</summary>
    public async Task<FieldErrors> SetRolesAsync(Actor admin, string userName, IReadOnlyCollection<string> roles, CancellationToken cancellationToken = default)
    {
        RequireAdmin(admin, "change roles");
        ArgumentNullException.ThrowIfNull(roles);
        var errors = new FieldErrors();
        ValidateRoles(roles, errors);
        if (!errors.IsEmpty)
        {
            return errors;
        }

        await ChangeAsync(errors, async users =>
        {
            var user = await users.FindByNameAsync(userName) ?? throw new DomainException($"There is no user '{userName}'.");
            var current = await users.GetRolesAsync(user);
            if (current.Contains(Roles.Admin) && !roles.Contains(Roles.Admin)
                && (await users.GetUsersInRoleAsync(Roles.Admin)).Count <= 1)
            {
                errors.Add("Roles", $"{userName} is the last administrator; make someone else an administrator first.");
                return null;
            }

            var removed = await users.RemoveFromRolesAsync(user, current.Except(roles));
            var added = removed.Succeeded ? await users.AddToRolesAsync(user, roles.Except(current)) : removed;
            if (!added.Succeeded)
            {
                IdentityErrors(added, errors);
                return null;
            }

            // Open sessions end at their next check (at most a minute); the person signs in again with the new roles.
            await users.UpdateSecurityStampAsync(user);
            return AuditEntry.Record(admin, AuditActions.RolesChanged, UserRef(userName), time,
                before: string.Join(",", current.Order()), after: string.Join(",", roles.Order()));
        }, cancellationToken);

        if (errors.IsEmpty)
        {
            bus.Publish(new UserRolesChanged(userName, roles.Order().ToList(), admin.Name, time.UtcNow()));
        }

        return errors;
    }

    /// <summary>Locks an account (no sign-in, no tokens) until unlocked, or unlocks it.</summary>
    public async Task SetLockedAsync(Actor admin, string userName, bool locked, CancellationToken cancellationToken = default)
    {
        RequireAdmin(admin, "lock or unlock accounts");
        if (locked && string.Equals(admin.Name, userName, StringComparison.OrdinalIgnoreCase))
        {
            throw new DomainException("You cannot lock your own account.");
        }

        await ChangeAsync(new FieldErrors(), async users =>
        {
            var user = await users.FindByNameAsync(userName) ?? throw new DomainException($"There is no user '{userName}'.");
            await users.SetLockoutEnabledAsync(user, true);
            await users.SetLockoutEndDateAsync(user, locked ? DateTimeOffset.MaxValue : null);
            if (!locked)
            {
                await users.ResetAccessFailedCountAsync(user);
            }

            await users.UpdateSecurityStampAsync(user);
            return AuditEntry.Record(admin, locked ? AuditActions.UserLocked : AuditActions.UserUnlocked, UserRef(userName), time);
        }, cancellationToken);

        if (locked)
        {
            // A lock ends the person's browser sessions now, not at the next stamp check.
            await sessions.EndAllAsync(userName, cancellationToken);
        }
    }

    public static string UserRef(string userName) => $"user:{userName}";

    /// <summary>
    /// Runs a change through Identity and writes its audit entry, in one transaction. When the change reports
    /// problems (into <paramref name="errors"/>, returning no entry) the transaction is rolled back: nothing
    /// is half-written.
    /// </summary>
    private async Task<FieldErrors> ChangeAsync(FieldErrors errors, Func<UserManager<PortalUser>, Task<AuditEntry?>> change, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        await using var transaction = await audit.BeginTransactionAsync(db, cancellationToken);
        var entry = await change(users);
        if (entry is null || !errors.IsEmpty)
        {
            return errors;
        }

        db.AuditEntries.Add(entry);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return errors;
    }

    private static void RequireAdmin(Actor actor, string what)
    {
        if (!actor.IsIn(Roles.Admin))
        {
            throw new NotPermittedException($"Only administrators can {what}.");
        }
    }

    private static void ValidateRoles(IReadOnlyCollection<string> roles, FieldErrors errors)
    {
        if (roles.Count == 0)
        {
            errors.Add("Roles", "Choose at least one role.");
        }

        foreach (var unknown in roles.Where(r => !Roles.IsKnown(r)))
        {
            errors.Add("Roles", $"'{unknown}' is not a role. Roles are {string.Join(", ", Roles.All)}.");
        }
    }

    private static void IdentityErrors(IdentityResult result, FieldErrors errors)
    {
        foreach (var error in result.Errors)
        {
            var field = error.Code.StartsWith("Password", StringComparison.Ordinal) ? nameof(NewUser.Password)
                : error.Code.Contains("UserName", StringComparison.Ordinal) || error.Code.Contains("Email", StringComparison.Ordinal) ? nameof(NewUser.Email)
                : "Roles";
            errors.Add(field, error.Description);
        }
    }
}

public enum UserSort
{
    UserName,
    DisplayName,
    LastSignIn,
    Created,
}

public sealed record UserQuery(string? Search = null, string? Role = null, UserSort SortBy = UserSort.UserName, bool Descending = false, int Skip = 0, int Take = 20);

public sealed record UserSummary(
    string UserName, string? DisplayName, string? Team, string Source, IReadOnlyList<string> Roles,
    DateTime? LockedUntil, DateTime? LastSignInAt, DateTime CreatedAt);

public sealed record UserPage(IReadOnlyList<UserSummary> Users, int Total);

public sealed class NewUser
{
    public string? Email { get; set; }

    public string? DisplayName { get; set; }

    public string? Team { get; set; }

    public string? Password { get; set; }

    public IReadOnlyCollection<string> Roles { get; set; } = [];
}
