using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Domain.Common;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Persistence.Interceptors;

/// <summary>
/// Publishes the domain events of saved entities once the save has succeeded: a live view never shows
/// a change the database did not keep.
/// </summary>
public sealed class DomainEventDispatchInterceptor(IEventBus bus) : SaveChangesInterceptor
{
    private readonly ConditionalWeakTable<DbContext, List<IDomainEvent>> _pending = [];

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
        if (context is not null && _pending.TryGetValue(context, out var events))
        {
            _pending.Remove(context);
            foreach (var domainEvent in events)
            {
                bus.Publish(domainEvent);
            }
        }
    }

    private void Forget(DbContext? context)
    {
        if (context is not null)
        {
            _pending.Remove(context);
        }
    }
}
