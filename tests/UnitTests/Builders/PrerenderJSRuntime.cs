using Microsoft.JSInterop;

namespace Portal.UnitTests.Builders;

/// <summary>What components get while prerendering on the server: a JS runtime that cannot run script yet.</summary>
public sealed class PrerenderJSRuntime : IJSRuntime
{
    public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) =>
        throw new InvalidOperationException($"JavaScript ({identifier}) cannot run while prerendering.");

    public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
        throw new InvalidOperationException($"JavaScript ({identifier}) cannot run while prerendering.");
}
