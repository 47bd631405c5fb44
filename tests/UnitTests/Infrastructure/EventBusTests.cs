using Microsoft.Extensions.Logging.Abstractions;
using Portal.Domain.Common;
using Portal.Infrastructure.Events;

namespace Portal.UnitTests.Infrastructure;

public class EventBusTests : IAsyncDisposable
{
    private readonly InProcessEventBus _bus = new(NullLogger<InProcessEventBus>.Instance);

    [Fact]
    public async Task Subscriber_ReceivesPublishedEventsInOrder()
    {
        var received = new List<int>();
        var done = new TaskCompletionSource();
        using var _ = _bus.Subscribe<Ping>(batch =>
        {
            lock (received)
            {
                received.AddRange(batch.Select(p => p.N));
                if (received.Count == 100)
                {
                    done.TrySetResult();
                }
            }

            return Task.CompletedTask;
        });

        for (var i = 0; i < 100; i++)
        {
            _bus.Publish(new Ping(i));
        }

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(0, 100), received);
    }

    [Fact]
    public async Task Coalescing_DeliversABurstAsFewBatches()
    {
        var batches = new List<int>();
        var total = 0;
        var done = new TaskCompletionSource();
        using var _ = _bus.Subscribe<Ping>(batch =>
        {
            batches.Add(batch.Count);
            total += batch.Count;
            if (total == 500)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        }, coalesce: TimeSpan.FromMilliseconds(200));

        for (var i = 0; i < 500; i++)
        {
            _bus.Publish(new Ping(i));
        }

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Without coalescing a busy subscriber could get hundreds of deliveries; a 200 ms window gives a handful.
        Assert.InRange(batches.Count, 1, 10);
    }

    [Fact]
    public async Task Coalescing_DeliversALoneEventAtOnce_NotAfterTheWindow()
    {
        var arrived = new TaskCompletionSource<IReadOnlyList<Ping>>();
        // A window far longer than any scheduling delay here: if the event waited for it, the wait below fails.
        using var _ = _bus.Subscribe<Ping>(batch =>
        {
            arrived.TrySetResult(batch);
            return Task.CompletedTask;
        }, coalesce: TimeSpan.FromMinutes(5));

        _bus.Publish(new Ping(1));

        var batch = await arrived.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(1, Assert.Single(batch).N);
    }

    [Fact]
    public async Task Filter_AndType_SelectWhatASubscriberGets()
    {
        var got = new List<IDomainEvent>();
        var done = new TaskCompletionSource();
        using var _ = _bus.Subscribe<Ping>(batch =>
        {
            got.AddRange(batch);
            if (got.Count == 2)
            {
                done.TrySetResult();
            }

            return Task.CompletedTask;
        }, filter: p => p.N % 2 == 0);

        _bus.Publish(new Pong());
        _bus.Publish(new Ping(1));
        _bus.Publish(new Ping(2));
        _bus.Publish(new Ping(4));

        await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal([2, 4], got.Cast<Ping>().Select(p => p.N));
    }

    [Fact]
    public async Task SlowSubscriber_DoesNotHoldUpPublisherOrOthers()
    {
        var gate = new TaskCompletionSource();
        var fastGot = new TaskCompletionSource();
        using var slow = _bus.Subscribe<Ping>(_ => gate.Task);
        using var fast = _bus.Subscribe<Ping>(_ =>
        {
            fastGot.TrySetResult();
            return Task.CompletedTask;
        });

        var publishing = Task.Run(() =>
        {
            for (var i = 0; i < 1000; i++)
            {
                _bus.Publish(new Ping(i));
            }
        });

        await publishing.WaitAsync(TimeSpan.FromSeconds(5));
        await fastGot.Task.WaitAsync(TimeSpan.FromSeconds(5));
        gate.SetResult();
    }

    [Fact]
    public async Task FailingSubscriber_KeepsReceivingLaterEvents()
    {
        var calls = 0;
        var first = new TaskCompletionSource();
        var second = new TaskCompletionSource();
        using var _ = _bus.Subscribe<Ping>(_ =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                first.TrySetResult();
                throw new InvalidOperationException("boom");
            }

            second.TrySetResult();
            return Task.CompletedTask;
        });

        _bus.Publish(new Ping(1));
        // Publish the second only once the first was delivered (and threw), so they cannot share a batch.
        await first.Task.WaitAsync(TimeSpan.FromSeconds(10));
        _bus.Publish(new Ping(2));

        await second.Task.WaitAsync(TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Dispose_StopsDelivery()
    {
        var count = 0;
        var subscription = _bus.Subscribe<Ping>(batch =>
        {
            Interlocked.Add(ref count, batch.Count);
            return Task.CompletedTask;
        });
        Assert.Equal(1, _bus.SubscriberCount);

        subscription.Dispose();
        _bus.Publish(new Ping(1));
        await Task.Delay(100);

        Assert.Equal(0, count);
        Assert.Equal(0, _bus.SubscriberCount);
    }

    public async ValueTask DisposeAsync()
    {
        await _bus.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    private sealed record Ping(int N) : IDomainEvent
    {
        public DateTime OccurredAt { get; } = DateTime.UtcNow;

        public string Subject => "test:ping";
    }

    private sealed record Pong : IDomainEvent
    {
        public DateTime OccurredAt { get; } = DateTime.UtcNow;

        public string Subject => "test:pong";
    }
}
