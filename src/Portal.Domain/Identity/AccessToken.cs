using System.Security.Cryptography;
using System.Text;
using Portal.Domain.Common;

namespace Portal.Domain.Identity;

/// <summary>
/// A personal access token a script uses instead of a password. Only a SHA-256 hash of the secret is
/// kept; the secret itself is shown once, when the token is issued.
/// </summary>
public sealed class AccessToken : Entity
{
    /// <summary>Tokens start with this so secret scanners and people recognise them.</summary>
    public const string SecretPrefix = "mlp_";

    public const int MaxNameLength = 100;
    public const int MaxLifetimeDays = 365;

    private AccessToken()
    {
    }

    public Guid Id { get; private set; }

    public string OwnerUserName { get; private set; } = "";

    public string Name { get; private set; } = "";

    /// <summary>The first characters of the secret, so a person can tell tokens apart without the secret.</summary>
    public string DisplayPrefix { get; private set; } = "";

    public string SecretHash { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    public DateTime ExpiresAt { get; private set; }

    public DateTime? RevokedAt { get; private set; }

    public string? RevokedBy { get; private set; }

    public DateTime? LastUsedAt { get; private set; }

    /// <summary>Issues a token for <paramref name="owner"/>; returns it with the one-time plain secret.</summary>
    public static (AccessToken Token, string Secret) Issue(Actor owner, string name, int lifetimeDays, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(owner);
        if (string.IsNullOrWhiteSpace(name) || name.Trim().Length > MaxNameLength)
        {
            throw new DomainException($"A token needs a name of 1 to {MaxNameLength} characters.");
        }

        if (Names.FreeTextProblem(name.Trim(' '), "name", MaxNameLength) is { } problem)
        {
            throw new DomainException(problem);
        }

        if (lifetimeDays is < 1 or > MaxLifetimeDays)
        {
            throw new DomainException($"A token lives between 1 and {MaxLifetimeDays} days; {lifetimeDays} was asked for.");
        }

        var secret = SecretPrefix + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var now = time.UtcNow();
        var token = new AccessToken
        {
            Id = Guid.NewGuid(),
            OwnerUserName = owner.Name,
            Name = name.Trim(),
            DisplayPrefix = secret[..(SecretPrefix.Length + 6)],
            SecretHash = HashSecret(secret),
            CreatedAt = now,
            ExpiresAt = now.AddDays(lifetimeDays),
        };
        return (token, secret);
    }

    public static string HashSecret(string secret) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));

    public AccessTokenStatus StatusAt(DateTime now) =>
        RevokedAt is not null ? AccessTokenStatus.Revoked
        : now >= ExpiresAt ? AccessTokenStatus.Expired
        : AccessTokenStatus.Active;

    /// <summary>Revokes the token. Only its owner or an admin may; a token is revoked once.</summary>
    public void Revoke(Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor.Name != OwnerUserName && !actor.IsIn(Roles.Admin))
        {
            throw new DomainException("Only the token's owner or an administrator can revoke it.");
        }

        if (RevokedAt is { } at)
        {
            throw new DomainException($"Token '{Name}' was already revoked on {at:yyyy-MM-dd HH:mm} UTC.");
        }

        RevokedAt = time.UtcNow();
        RevokedBy = actor.Name;
    }

    /// <summary>
    /// Notes a use of the token. Writes at most once a minute so a busy script does not turn every request
    /// into a database write; returns whether it changed anything.
    /// </summary>
    public bool MarkUsed(DateTime now)
    {
        if (LastUsedAt is { } last && now - last < TimeSpan.FromMinutes(1))
        {
            return false;
        }

        LastUsedAt = now;
        return true;
    }
}

public enum AccessTokenStatus
{
    Active,
    Expired,
    Revoked,
}
