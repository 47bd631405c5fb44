using Bunit;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Extensions.Logging.Abstractions;
using Portal.Components.Shared;
using Portal.Domain.Common;
using Portal.Domain.Ports;
using Portal.Infrastructure.Events;

namespace Portal.UnitTests.Components;

/// <summary>
/// The one way pages go live: subscriptions start with the first render and end with the page, updates
/// re-render it, and a new route starts the page over (the run page's parent link, the review page's next request).
/// </summary>
public sealed class LiveComponentTests : IAsyncLifetime
{
    private readonly BunitContext _bunit = new();
    private readonly InProcessEventBus _bus = new(NullLogger<InProcessEventBus>.Instance);

    public Task InitializeAsync()
    {
        _bunit.Services.AddSingleton<IEventBus>(_bus);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _bunit.DisposeAsync();
        await _bus.DisposeAsync();
    }

    [Fact]
    public void ALiveEvent_ReRendersThePage_AndLeavingThePage_Unsubscribes()
    {
        var page = _bunit.Render<Follower>(p => p.Add(x => x.Thing, "run-a"));
        Assert.Equal(1, _bus.SubscriberCount);

        _bus.Publish(new Ping("run-a", 1));
        _bus.Publish(new Ping("run-b", 2));

        page.WaitForAssertion(() => Assert.Equal("loaded run-a|run-a:1", page.Markup));
        page.Instance.DisposeForTest();
        Assert.Equal(0, _bus.SubscriberCount);
    }

    [Fact]
    public void ANewRoute_CancelsTheOldLoad_AndForgetsWhatTheOldOneShowed()
    {
        var page = _bunit.Render<Follower>(p => p.Add(x => x.Thing, "slow"));
        page.WaitForAssertion(() => Assert.Equal("loading slow", page.Markup));

        page.Render(p => p.Add(x => x.Thing, "run-b"));

        page.WaitForAssertion(() => Assert.Equal("loaded run-b", page.Markup));
        Assert.Equal(1, page.Instance.Resets);
        Assert.True(page.Instance.SlowLoadCancelled);
        // Still live, for the new route only.
        _bus.Publish(new Ping("slow", 1));
        _bus.Publish(new Ping("run-b", 2));
        page.WaitForAssertion(() => Assert.Equal("loaded run-b|run-b:2", page.Markup));
    }

    [Fact]
    public void TheSameRoute_KeepsWhatThePageShows()
    {
        var page = _bunit.Render<Follower>(p => p.Add(x => x.Thing, "run-a"));
        _bus.Publish(new Ping("run-a", 1));
        page.WaitForAssertion(() => Assert.Equal("loaded run-a|run-a:1", page.Markup));

        page.Render(p => p.Add(x => x.Thing, "run-a"));

        page.WaitForAssertion(() => Assert.Equal("loaded run-a|run-a:1", page.Markup));
        Assert.Equal(0, page.Instance.Resets);
    }

    private sealed record Ping(string Thing, int N) : IDomainEvent
    {
        public DateTime OccurredAt { get; } = DateTime.UtcNow;

        public string Subject => "test:" + Thing;
    }

    /// <summary>A page following one "thing" from its route; "slow" never finishes loading.</summary>
    private sealed class Follower : LiveComponent
    {
        private readonly List<string> _shown = [];

        [Parameter]
        public string Thing { get; set; } = "";

        public int Resets { get; private set; }

        public bool SlowLoadCancelled { get; private set; }

        protected override string RouteKey => Thing;

        public void DisposeForTest() => Dispose();

        protected override void OnInitialized() => Live<Ping>(batch =>
        {
            _shown.AddRange(batch.Select(p => $"{p.Thing}:{p.N}"));
            return Task.CompletedTask;
        }, p => p.Thing == Thing, TimeSpan.Zero);

        protected override void ResetState()
        {
            _shown.Clear();
            Resets++;
        }

        protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
        {
            var thing = Thing;
            _shown.RemoveAll(s => s.StartsWith("load", StringComparison.Ordinal));
            _shown.Insert(0, $"loading {thing}");
            try
            {
                await Task.Delay(thing == "slow" ? Timeout.Infinite : 1, cancel);
            }
            catch (OperationCanceledException)
            {
                SlowLoadCancelled = thing == "slow";
                throw;
            }

            _shown[_shown.IndexOf($"loading {thing}")] = $"loaded {thing}";
        });

        protected override void BuildRenderTree(RenderTreeBuilder builder) => builder.AddContent(0, string.Join("|", _shown));
    }
}
