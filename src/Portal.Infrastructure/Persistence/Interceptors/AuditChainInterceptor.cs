using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Domain.Audit;

namespace Portal.Infrastructure.Persistence.Interceptors;

/// <summary>
/// Links new audit entries onto the end of the trail as part of the same save as the change they record,
/// so a change and its audit entry are written together or not at all. Saves that add entries take turns
/// (one process-wide gate) so two saves never claim the same predecessor; across processes the unique
/// index on PreviousHash refuses a fork instead.
/// A transaction that will add entries takes its turn before it begins (<see cref="BeginTransactionAsync"/>):
/// taken later, it would wait for the gate while holding the database's write lock, and the save holding the
/// gate would wait for that lock — each stuck until SQLite's busy timeout failed one of them.
/// </summary>
public sealed class AuditChainInterceptor : SaveChangesInterceptor
{
    // What a context holds the gate for: the saves of a whole transaction, or one save.
    private static readonly object ForTransaction = new();
    private static readonly object ForSave = new();

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly ConditionalWeakTable<DbContext, object> _holders = [];

    /// <summary>
    /// Takes the audit turn, then begins a transaction on <paramref name="context"/>; the turn is given back
    /// when the returned transaction is disposed. Every save in it chains entries without waiting again.
    /// </summary>
    public async Task<AuditedTransaction> BeginTransactionAsync(DbContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        await _gate.WaitAsync(cancellationToken);
        _holders.AddOrUpdate(context, ForTransaction);
        try
        {
            return new AuditedTransaction(await context.Database.BeginTransactionAsync(cancellationToken), () => EndTurn(context));
        }
        catch
        {
            EndTurn(context);
            throw;
        }
    }

    public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is { } context && PendingEntries(context) is { Count: > 0 } pending)
        {
            if (!HoldsTransactionTurn(context))
            {
                await _gate.WaitAsync(cancellationToken);
                _holders.AddOrUpdate(context, ForSave);
            }

            try
            {
                var last = await context.Set<AuditEntry>().AsNoTracking()
                    .OrderByDescending(e => e.Id)
                    .Select(e => new { e.Id, e.Hash })
                    .FirstOrDefaultAsync(cancellationToken);
                Chain(pending, last?.Id ?? 0, last?.Hash ?? AuditEntry.GenesisHash);
            }
            catch
            {
                Release(context);
                throw;
            }
        }

        return result;
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        if (eventData.Context is { } context && PendingEntries(context) is { Count: > 0 } pending)
        {
            if (!HoldsTransactionTurn(context))
            {
                _gate.Wait();
                _holders.AddOrUpdate(context, ForSave);
            }

            try
            {
                var last = context.Set<AuditEntry>().AsNoTracking()
                    .OrderByDescending(e => e.Id)
                    .Select(e => new { e.Id, e.Hash })
                    .FirstOrDefault();
                Chain(pending, last?.Id ?? 0, last?.Hash ?? AuditEntry.GenesisHash);
            }
            catch
            {
                Release(context);
                throw;
            }
        }

        return result;
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Release(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Release(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Release(eventData.Context);

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(eventData.Context);
        return Task.CompletedTask;
    }

    // EF reports an optimistic-concurrency failure here instead of SaveChangesFailed: without this the gate
    // stayed taken and every later audited save waited forever.
    public override InterceptionResult ThrowingConcurrencyException(ConcurrencyExceptionEventData eventData, InterceptionResult result)
    {
        Release(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult> ThrowingConcurrencyExceptionAsync(
        ConcurrencyExceptionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        Release(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void SaveChangesCanceled(DbContextEventData eventData) => Release(eventData.Context);

    public override Task SaveChangesCanceledAsync(DbContextEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(eventData.Context);
        return Task.CompletedTask;
    }

    private static List<AuditEntry> PendingEntries(DbContext context) =>
        context.ChangeTracker.Entries<AuditEntry>()
            .Where(e => e.State == EntityState.Added && !e.Entity.IsChained)
            .Select(e => e.Entity)
            .OrderBy(e => e.At)
            .ToList();

    private static void Chain(List<AuditEntry> pending, long lastId, string lastHash)
    {
        foreach (var entry in pending)
        {
            entry.ChainAfter(++lastId, lastHash);
            lastHash = entry.Hash;
        }
    }

    private bool HoldsTransactionTurn(DbContext context) =>
        _holders.TryGetValue(context, out var holding) && ReferenceEquals(holding, ForTransaction);

    // The end of one save gives the turn back only when the turn was taken for that save.
    private void Release(DbContext? context)
    {
        if (context is not null && _holders.TryGetValue(context, out var holding) && ReferenceEquals(holding, ForSave)
            && _holders.Remove(context))
        {
            _gate.Release();
        }
    }

    private void EndTurn(DbContext context)
    {
        if (_holders.Remove(context))
        {
            _gate.Release();
        }
    }
}
