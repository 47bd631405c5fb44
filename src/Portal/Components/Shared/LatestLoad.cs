namespace Portal.Components.Shared;

/// <summary>
/// Server-side loads of a grid page: a newer load (sort click, paging, typing) cancels the one still
/// running, and disposing the page cancels whatever is left.
/// </summary>
public sealed class LatestLoad : IDisposable
{
    private readonly CancellationTokenSource _disposed = new();
    private CancellationTokenSource? _current;

    public bool Loading { get; private set; }

    /// <summary>Cancelled when the page goes away; for other work the page does.</summary>
    public CancellationToken Disposed => _disposed.Token;

    /// <summary>Runs <paramref name="load"/>, cancelling the previous one; <paramref name="also"/> cancels it too.</summary>
    public async Task RunAsync(Func<CancellationToken, Task> load, CancellationToken also = default)
    {
        ArgumentNullException.ThrowIfNull(load);
        _current?.Cancel();
        _current?.Dispose();
        _current = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token, also);
        var token = _current.Token;
        Loading = true;
        try
        {
            await load(token);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Superseded by a newer load, or the page left.
        }
        finally
        {
            if (!token.IsCancellationRequested)
            {
                Loading = false;
            }
        }
    }

    public void Dispose()
    {
        _disposed.Cancel();
        _disposed.Dispose();
        _current?.Dispose();
    }
}
