using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Audit;

/// <summary>Reads the audit trail and records entries that stand on their own (security events).</summary>
public sealed class AuditTrail(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const int MaxPageSize = 500;

    /// <summary>
    /// Records an entry in its own save. Changes to other state record their entry in the same save as
    /// the change instead (add an <see cref="AuditEntry"/> to that context).
    /// </summary>
    public async Task RecordAsync(
        Actor actor, string action, string entity,
        string? before = null, string? after = null, string? reason = null,
        CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.AuditEntries.Add(AuditEntry.Record(actor, action, entity, time, before, after, reason));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Newest first. <see cref="AuditQuery.Entity"/> matches a reference or any reference it prefixes.</summary>
    public async Task<AuditPage> SearchAsync(AuditQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var entries = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.Entity))
        {
            var entity = query.Entity.Trim();
            entries = entries.Where(e => e.Entity == entity || e.Entity.StartsWith(entity + ":"));
        }

        if (!string.IsNullOrWhiteSpace(query.Actor))
        {
            entries = entries.Where(e => e.Actor == query.Actor.Trim());
        }

        if (!string.IsNullOrWhiteSpace(query.ActionPrefix))
        {
            entries = entries.Where(e => e.Action.StartsWith(query.ActionPrefix));
        }

        if (query.From is { } from)
        {
            entries = entries.Where(e => e.At >= from);
        }

        if (query.To is { } to)
        {
            entries = entries.Where(e => e.At <= to);
        }

        var total = await entries.CountAsync(cancellationToken);
        var page = await entries.OrderByDescending(e => e.Id)
            .Skip(query.Skip)
            .Take(Math.Clamp(query.Take, 1, MaxPageSize))
            .ToListAsync(cancellationToken);
        return new AuditPage(page, total);
    }

    /// <summary>Recomputes the whole chain, streaming it in order.</summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var verifier = new AuditChainVerifier();
        await foreach (var entry in db.AuditEntries.AsNoTracking().OrderBy(e => e.Id).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            if (!verifier.Accept(entry))
            {
                break;
            }
        }

        return verifier.Result;
    }
}

public sealed record AuditQuery(
    string? Entity = null, string? Actor = null, string? ActionPrefix = null,
    DateTime? From = null, DateTime? To = null, int Skip = 0, int Take = 50);

public sealed record AuditPage(IReadOnlyList<AuditEntry> Entries, int Total);
