using System.Collections.Concurrent;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Events;

/// <summary>
/// The in-process event bus. Every subscription has its own bounded queue and pump, so a slow browser
/// circuit never holds up a publisher or another subscriber. When a queue is full the oldest events are
/// dropped: live views are hints to refresh, the database stays the truth.
/// </summary>
public sealed partial class InProcessEventBus(ILogger<InProcessEventBus> logger) : IEventBus, IAsyncDisposable
{
    internal const int QueueCapacity = 10_000;

    private readonly ConcurrentDictionary<Subscription, byte> _subscriptions = new();

    public int SubscriberCount => _subscriptions.Count;

    public void Publish(IDomainEvent domainEvent)
    {
        ArgumentNullException.ThrowIfNull(domainEvent);
        foreach (var subscription in _subscriptions.Keys)
        {
            subscription.Offer(domainEvent);
        }
    }

    public IDisposable Subscribe<TEvent>(
        Func<IReadOnlyList<TEvent>, Task> handler,
        Func<TEvent, bool>? filter = null,
        TimeSpan coalesce = default)
        where TEvent : IDomainEvent
    {
        ArgumentNullException.ThrowIfNull(handler);
        var subscription = new Subscription(
            e => e is TEvent typed && (filter is null || filter(typed)),
            batch => handler(batch.Cast<TEvent>().ToList()),
            coalesce,
            this);
        _subscriptions.TryAdd(subscription, 0);
        return subscription;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var subscription in _subscriptions.Keys)
        {
            await subscription.StopAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "A live event subscriber failed; it keeps receiving later events")]
    private partial void LogHandlerFailed(Exception exception);

    private sealed class Subscription : IDisposable
    {
        private readonly Func<IDomainEvent, bool> _accepts;
        private readonly Func<IReadOnlyList<IDomainEvent>, Task> _handler;
        private readonly TimeSpan _coalesce;
        private readonly InProcessEventBus _bus;
        private readonly Channel<IDomainEvent> _queue = Channel.CreateBounded<IDomainEvent>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _pump;

        public Subscription(Func<IDomainEvent, bool> accepts, Func<IReadOnlyList<IDomainEvent>, Task> handler, TimeSpan coalesce, InProcessEventBus bus)
        {
            _accepts = accepts;
            _handler = handler;
            _coalesce = coalesce;
            _bus = bus;
            _pump = Task.Run(PumpAsync);
        }

        public void Offer(IDomainEvent domainEvent)
        {
            bool accepted;
            try
            {
                accepted = _accepts(domainEvent);
            }
            catch (Exception ex)
            {
                _bus.LogHandlerFailed(ex);
                return;
            }

            if (accepted)
            {
                _queue.Writer.TryWrite(domainEvent);
            }
        }

        public void Dispose()
        {
            _bus._subscriptions.TryRemove(this, out _);
            _queue.Writer.TryComplete();
            _stop.Cancel();
        }

        public async Task StopAsync()
        {
            Dispose();
            await _pump.ConfigureAwait(false);
        }

        private async Task PumpAsync()
        {
            var reader = _queue.Reader;
            var batch = new List<IDomainEvent>();
            var sinceDelivery = System.Diagnostics.Stopwatch.StartNew();
            var delivered = false;
            try
            {
                while (await reader.WaitToReadAsync(_stop.Token).ConfigureAwait(false))
                {
                    // The first event after a quiet spell goes out at once; during a burst, what arrives within a
                    // window of the last delivery waits for the window to close and goes out together.
                    var wait = _coalesce - sinceDelivery.Elapsed;
                    if (delivered && wait > TimeSpan.Zero)
                    {
                        await Task.Delay(wait, _stop.Token).ConfigureAwait(false);
                    }

                    while (reader.TryRead(out var next))
                    {
                        batch.Add(next);
                    }

                    try
                    {
                        await _handler(batch).ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException || !_stop.IsCancellationRequested)
                    {
                        _bus.LogHandlerFailed(ex);
                    }

                    sinceDelivery.Restart();
                    delivered = true;
                    batch = [];
                }
            }
            catch (OperationCanceledException) when (_stop.IsCancellationRequested)
            {
                // Unsubscribed: pending events are no longer wanted.
            }
        }
    }
}
