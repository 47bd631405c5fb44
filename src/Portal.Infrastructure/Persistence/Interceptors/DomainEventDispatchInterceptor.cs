using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Domain.Common;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Persistence.Interceptors;

/// <summary>
/// Publishes the domain events of saved entities once they are kept: right after a save, or, when the save
/// ran inside an explicit transaction, only when that transaction commits (dropped on rollback). A live view
/// never shows a metric or a status the database did not keep.
/// </summary>
public sealed class DomainEventDispatchInterceptor(IEventBus bus) : SaveChangesInterceptor, IDbTransactionInterceptor
{
    private readonly ConditionalWeakTable<DbContext, List<IDomainEvent>> _pending = [];

    // Saved inside a transaction that has not committed yet.
    private readonly ConditionalWeakTable<DbContext, List<IDomainEvent>> _held = [];

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        Collect(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        Collect(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Dispatch(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Dispatch(eventData.Context);
        return result;
    }

    public override Task SaveChangesFailedAsync(DbContextErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public override void SaveChangesFailed(DbContextErrorEventData eventData) => Forget(eventData.Context);

    private void Collect(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        var events = new List<IDomainEvent>();
        foreach (var entry in context.ChangeTracker.Entries<Entity>())
        {
            events.AddRange(entry.Entity.DomainEvents);
            entry.Entity.ClearDomainEvents();
        }

        if (events.Count > 0)
        {
            _pending.AddOrUpdate(context, events);
        }
    }

    private void Dispatch(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var events))
        {
            return;
        }

        _pending.Remove(context);
        if (context.Database.CurrentTransaction is not null)
        {
            _held.GetOrCreateValue(context).AddRange(events);
            return;
        }

        Publish(events);
    }

    private void Publish(List<IDomainEvent> events)
    {
        foreach (var domainEvent in events)
        {
            bus.Publish(domainEvent);
        }
    }

    private void Release(DbContext? context)
    {
        if (context is not null && _held.TryGetValue(context, out var events))
        {
            _held.Remove(context);
            Publish(events);
        }
    }

    private void Drop(DbContext? context)
    {
        if (context is not null)
        {
            _held.Remove(context);
        }
    }

    public void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Release(eventData.Context);

    public Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Release(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Drop(eventData.Context);

    public Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Drop(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Drop(eventData.Context);

    public Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Drop(eventData.Context);
        return Task.CompletedTask;
    }

    // A transaction disposed without a commit rolled back: whatever it held from an earlier one is stale.
    public DbTransaction TransactionStarted(DbTransaction transaction, TransactionEndEventData eventData)
    {
        Drop(eventData.Context);
        return transaction;
    }

    public ValueTask<DbTransaction> TransactionStartedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Drop(eventData.Context);
        return ValueTask.FromResult(transaction);
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _pending.Remove(context);
        }
    }
}
