using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Identity;

/// <summary>Issues, lists, revokes and checks personal access tokens.</summary>
public sealed class AccessTokenService(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public async Task<(AccessToken Token, string Secret)> IssueAsync(Actor owner, string name, int lifetimeDays, CancellationToken cancellationToken = default)
    {
        var (token, secret) = AccessToken.Issue(owner, name, lifetimeDays, time);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.AccessTokens.Add(token);
        db.AuditEntries.Add(AuditEntry.Record(owner, AuditActions.TokenIssued, TokenRef(token), time,
            after: $"name={token.Name}; expires={token.ExpiresAt:O}"));
        await db.SaveChangesAsync(cancellationToken);
        return (token, secret);
    }

    public async Task<IReadOnlyList<AccessToken>> ListAsync(string ownerUserName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.AccessTokens.AsNoTracking()
            .Where(t => t.OwnerUserName == ownerUserName)
            .OrderByDescending(t => t.CreatedAt)
            .ToListAsync(cancellationToken);
    }

    /// <summary>Revokes a token; false when there is no such token the actor can see.</summary>
    /// <exception cref="DomainException">The token was already revoked, or the actor may not revoke it.</exception>
    public async Task<bool> RevokeAsync(Actor actor, Guid tokenId, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var token = await db.AccessTokens.SingleOrDefaultAsync(t => t.Id == tokenId, cancellationToken);
        if (token is null || (token.OwnerUserName != actor.Name && !actor.IsIn(Roles.Admin)))
        {
            return false;
        }

        token.Revoke(actor, time);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.TokenRevoked, TokenRef(token), time,
            before: "active", after: "revoked"));
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Revokes every live token of <paramref name="ownerUserName"/> called <paramref name="name"/> (a job's
    /// token, found by name again after a restart); a token already revoked is left as it is.
    /// </summary>
    public async Task<int> RevokeNamedAsync(string ownerUserName, string name, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tokens = await db.AccessTokens.Where(t => t.OwnerUserName == ownerUserName && t.Name == name && t.RevokedAt == null).ToListAsync(cancellationToken);
        var owner = new Actor(ownerUserName);
        foreach (var token in tokens)
        {
            token.Revoke(owner, time);
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.TokenRevoked, TokenRef(token), time, before: "active", after: "revoked", reason: "its job ended"));
        }

        await db.SaveChangesAsync(cancellationToken);
        return tokens.Count;
    }

    /// <summary>Looks a presented secret up and says whether it may be used, and for whom.</summary>
    public async Task<TokenCheck> CheckAsync(string presentedSecret, CancellationToken cancellationToken = default)
    {
        if (!presentedSecret.StartsWith(AccessToken.SecretPrefix, StringComparison.Ordinal) || presentedSecret.Length > 200)
        {
            return TokenCheck.Unknown;
        }

        var hash = AccessToken.HashSecret(presentedSecret);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var token = await db.AccessTokens.SingleOrDefaultAsync(t => t.SecretHash == hash, cancellationToken);
        if (token is null)
        {
            return TokenCheck.Unknown;
        }

        var now = time.UtcNow();
        var status = token.StatusAt(now);
        if (status != AccessTokenStatus.Active)
        {
            return new TokenCheck(status == AccessTokenStatus.Expired ? TokenCheckResult.Expired : TokenCheckResult.Revoked, token, null);
        }

        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.UserName == token.OwnerUserName, cancellationToken);
        if (user is null || (user.LockoutEnd is { } end && end > time.GetUtcNow()))
        {
            return new TokenCheck(TokenCheckResult.OwnerDisabled, token, null);
        }

        if (token.MarkUsed(now))
        {
            await db.SaveChangesAsync(cancellationToken);
        }

        return new TokenCheck(TokenCheckResult.Valid, token, user);
    }

    public static string TokenRef(AccessToken token) => $"token:{token.OwnerUserName}:{token.Id}";
}

public enum TokenCheckResult
{
    Valid,
    Unknown,
    Expired,
    Revoked,
    OwnerDisabled,
}

public sealed record TokenCheck(TokenCheckResult Result, AccessToken? Token, PortalUser? User)
{
    public static TokenCheck Unknown { get; } = new(TokenCheckResult.Unknown, null, null);

    /// <summary>Why a token was refused, for the caller (never says more than they already know).</summary>
    public string Problem => Result switch
    {
        TokenCheckResult.Expired => $"The access token '{Token!.Name}' expired on {Token.ExpiresAt:yyyy-MM-dd HH:mm} UTC. Create a new one.",
        TokenCheckResult.Revoked => $"The access token '{Token!.Name}' was revoked on {Token.RevokedAt:yyyy-MM-dd HH:mm} UTC.",
        TokenCheckResult.OwnerDisabled => "The account that owns this access token is locked or no longer exists.",
        TokenCheckResult.Unknown => "The access token is not recognised.",
        _ => "",
    };
}
