using Portal.Domain.Common;

namespace Portal.Domain.Ports;

/// <summary>
/// The in-process bus domain events travel on. Publishing never waits for subscribers; each subscriber
/// gets events in order, in batches, on its own pace.
/// </summary>
public interface IEventBus
{
    void Publish(IDomainEvent domainEvent);

    /// <summary>
    /// Subscribes to events of type <typeparamref name="TEvent"/> (and its subtypes) that pass
    /// <paramref name="filter"/>. With a <paramref name="coalesce"/> window, the first event after a quiet
    /// spell is delivered at once and events arriving within the window after a delivery go out together when
    /// it closes, so a burst becomes a few updates without delaying a lone one. Dispose to stop.
    /// </summary>
    IDisposable Subscribe<TEvent>(
        Func<IReadOnlyList<TEvent>, Task> handler,
        Func<TEvent, bool>? filter = null,
        TimeSpan coalesce = default)
        where TEvent : IDomainEvent;
}
