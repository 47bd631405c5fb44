using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Portal.Domain.Common;

namespace Portal.Domain.Audit;

/// <summary>
/// One line of the append-only audit trail. Each entry carries the hash of the entry before it, so
/// changing or removing any entry breaks every hash after it (see <see cref="AuditChain"/>).
/// </summary>
public sealed class AuditEntry : Entity
{
    /// <summary>The "previous hash" of the very first entry.</summary>
    public static readonly string GenesisHash = new('0', 64);

    public const int MaxTextLength = 8_000;

    private AuditEntry()
    {
    }

    /// <summary>Position in the trail, assigned by the database; entries are chained in this order.</summary>
    public long Id { get; private set; }

    public DateTime At { get; private set; }

    public string Actor { get; private set; } = "";

    public string Action { get; private set; } = "";

    /// <summary>What the entry is about, as an artifact reference (<c>user:bob@x</c>, <c>model:credit-risk:3</c>).</summary>
    public string Entity { get; private set; } = "";

    public string? Before { get; private set; }

    public string? After { get; private set; }

    public string? Reason { get; private set; }

    public string PreviousHash { get; private set; } = "";

    public string Hash { get; private set; } = "";

    public bool IsChained => Hash.Length > 0;

    private static long _unchainedIds;

    public static AuditEntry Record(
        Actor actor, string action, string entity, TimeProvider time,
        string? before = null, string? after = null, string? reason = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentException.ThrowIfNullOrWhiteSpace(action);
        ArgumentException.ThrowIfNullOrWhiteSpace(entity);
        var entry = new AuditEntry
        {
            // A stand-in until the entry is chained, so several new entries can be saved together.
            Id = -Interlocked.Increment(ref _unchainedIds),
            At = time.UtcNow(),
            Actor = actor.Name,
            Action = action,
            Entity = Clip(entity)!,
            Before = Clip(before),
            After = Clip(after),
            Reason = Clip(reason),
        };
        entry.Raise(new AuditEntryRecorded(entry.Action, entry.Actor, entry.Entity, entry.Reason, entry.At));
        return entry;
    }

    /// <summary>
    /// Places this new entry at position <paramref name="id"/>, after the entry whose hash is
    /// <paramref name="previousHash"/>.
    /// </summary>
    public void ChainAfter(long id, string previousHash)
    {
        if (IsChained)
        {
            throw new DomainException("An audit entry is chained once; it cannot be moved in the trail.");
        }

        if (id < 1 || previousHash.Length != GenesisHash.Length)
        {
            throw new DomainException("An audit entry follows a real position and hash in the trail.");
        }

        Id = id;
        PreviousHash = previousHash;
        Hash = ComputeHash();
    }

    /// <summary>SHA-256 over every recorded field and the previous hash, as a JSON array (unambiguous).</summary>
    public string ComputeHash()
    {
        var canonical = JsonSerializer.Serialize(new[]
        {
            PreviousHash, At.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
            Actor, Action, Entity, Before, After, Reason,
        });
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
    }

    private static string? Clip(string? text) =>
        text is null || text.Length <= MaxTextLength ? text : text[..MaxTextLength] + "…";
}

/// <summary>Raised when an entry is added to the audit trail; security entries reach admins live.</summary>
public sealed record AuditEntryRecorded(string Action, string Actor, string Entity, string? Reason, DateTime OccurredAt)
    : IDomainEvent
{
    public string Subject => Entity;

    public bool IsSecurityEvent => AuditActions.IsSecurityEvent(Action);
}
