using Microsoft.AspNetCore.Components;
using Portal.Domain.Common;
using Portal.Domain.Ports;

namespace Portal.Components.Shared;

/// <summary>
/// The one way a page goes live. A page declares what it follows with <see cref="Live{TEvent}"/> (usually in
/// <c>OnInitialized</c>); the subscriptions start after the first interactive render (never while prerendering),
/// handlers run on the circuit's dispatcher, the page re-renders after each, failures reach the error
/// boundary, and everything stops when the page goes. When the route names something else (another run,
/// another request) the page starts over: loads still running for the old one are cancelled, live handlers
/// for it are dropped, and <see cref="ResetState"/> forgets what was shown.
/// </summary>
public abstract class LiveComponent : ComponentBase, IHandleAfterRender, IDisposable
{
    /// <summary>
    /// Events closer together than this arrive together. The first event after a quiet spell is delivered at
    /// once, so a single logged metric reaches the chart without waiting for a window to close.
    /// </summary>
    public static readonly TimeSpan DefaultCoalesce = TimeSpan.FromMilliseconds(200);

    private readonly List<Func<IDisposable>> _wanted = [];
    private readonly List<IDisposable> _subscriptions = [];
    private readonly LatestLoad _loads = new();
    private CancellationTokenSource _showing = new();
    private string? _route;
    private bool _rendered;
    private bool _disposed;

    [Inject]
    protected IEventBus Bus { get; set; } = default!;

    /// <summary>Cancelled when the page leaves or its route moves on to something else.</summary>
    protected CancellationToken Showing => _showing.Token;

    /// <summary>True while a <see cref="LoadAsync"/> is running (for progress bars).</summary>
    protected bool Loading => _loads.Loading;

    /// <summary>What the page shows, from its route parameters; when it changes, the page starts over.</summary>
    protected virtual string RouteKey => "";

    public override Task SetParametersAsync(ParameterView parameters)
    {
        parameters.SetParameterProperties(this);
        var route = RouteKey;
        if (_route is not null && !string.Equals(_route, route, StringComparison.Ordinal))
        {
            // Not disposed here: updates still running for the old route hold its token and must see it cancelled.
            _showing.Cancel();
            _showing = new CancellationTokenSource();
            ResetState();
        }

        _route = route;
        return base.SetParametersAsync(ParameterView.Empty);
    }

    /// <summary>Forgets what the page showed for the previous route (fields, offsets, zoom, selections).</summary>
    protected virtual void ResetState()
    {
    }

    /// <summary>Runs a load for the current route; a newer load or a new route cancels it.</summary>
    protected Task LoadAsync(Func<CancellationToken, Task> load) => _loads.RunAsync(load, Showing);

    /// <summary>Follows events of <typeparamref name="TEvent"/> passing <paramref name="filter"/>.</summary>
    protected void Live<TEvent>(Func<IReadOnlyList<TEvent>, Task> onEvents, Func<TEvent, bool>? filter = null, TimeSpan? coalesce = null)
        where TEvent : IDomainEvent
    {
        ArgumentNullException.ThrowIfNull(onEvents);
        IDisposable Start() => Bus.Subscribe<TEvent>(batch => InvokeAsync(() => HandleAsync(batch, onEvents)), filter, coalesce ?? DefaultCoalesce);
        if (_rendered)
        {
            _subscriptions.Add(Start());
        }
        else
        {
            _wanted.Add(Start);
        }
    }

    /// <summary>Follows events of <typeparamref name="TEvent"/> and reloads with <paramref name="refresh"/>.</summary>
    protected void Live<TEvent>(Func<Task> refresh, Func<TEvent, bool>? filter = null, TimeSpan? coalesce = null)
        where TEvent : IDomainEvent
    {
        ArgumentNullException.ThrowIfNull(refresh);
        Live<TEvent>(_ => refresh(), filter, coalesce);
    }

    Task IHandleAfterRender.OnAfterRenderAsync()
    {
        // ComponentBase's own after-render handling, plus going live on the first interactive render.
        var firstRender = !_rendered;
        _rendered = true;
        if (firstRender && !_disposed)
        {
            _subscriptions.AddRange(_wanted.Select(start => start()));
            _wanted.Clear();
        }

        OnAfterRender(firstRender);
        return OnAfterRenderAsync(firstRender);
    }

    private async Task HandleAsync<TEvent>(IReadOnlyList<TEvent> batch, Func<IReadOnlyList<TEvent>, Task> onEvents)
    {
        if (_disposed)
        {
            return;
        }

        var showing = Showing;
        try
        {
            await onEvents(batch);
            if (!showing.IsCancellationRequested)
            {
                StateHasChanged();
            }
        }
        catch (OperationCanceledException) when (showing.IsCancellationRequested)
        {
            // The page left, or moved on to something else, while this update was loading.
        }
        catch (Exception ex) when (!_disposed)
        {
            await DispatchExceptionAsync(ex);
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (_disposed || !disposing)
        {
            return;
        }

        _disposed = true;
        foreach (var subscription in _subscriptions)
        {
            subscription.Dispose();
        }

        _showing.Cancel();
        _showing.Dispose();
        _loads.Dispose();
    }
}
