using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;

namespace Portal.UnitTests.Builders;

/// <summary>
/// Speaks SignalR's JSON hub protocol over a TestServer WebSocket, as any external client would (the
/// .NET SignalR client is not in our registry). Negotiate, handshake, invoke, receive.
/// </summary>
public sealed class RawHubClient : IAsyncDisposable
{
    private const char RecordSeparator = '\u001e';

    // Generous: the suites share two cores with a browser and a second portal.
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(30);
    private readonly WebSocket _socket;
    private readonly Channel<JsonElement> _incoming = Channel.CreateUnbounded<JsonElement>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _receiving;
    private int _invocations;

    private RawHubClient(WebSocket socket)
    {
        _socket = socket;
        _receiving = Task.Run(ReceiveAsync);
    }

    public static async Task<RawHubClient> ConnectAsync(PortalFactory portal, AuthenticationHeaderValue? authorization, string? accessTokenQuery = null)
    {
        var http = portal.AnonymousClient();
        http.DefaultRequestHeaders.Authorization = authorization;
        var query = accessTokenQuery is null ? "" : $"&access_token={Uri.EscapeDataString(accessTokenQuery)}";
        var negotiate = await http.PostAsync($"/hubs/status/negotiate?negotiateVersion=1{query}", null);
        var body = await negotiate.Content.ReadAsStringAsync();
        if (!negotiate.IsSuccessStatusCode)
        {
            throw new HubRefusedException((int)negotiate.StatusCode, body);
        }

        var token = JsonDocument.Parse(body).RootElement.GetProperty("connectionToken").GetString();
        var client = portal.Server.CreateWebSocketClient();
        client.ConfigureRequest = request =>
        {
            if (authorization is not null)
            {
                request.Headers.Authorization = authorization.ToString();
            }
        };
        var socket = await client.ConnectAsync(new Uri($"ws://localhost/hubs/status?id={token}{query}"), CancellationToken.None);
        var hub = new RawHubClient(socket);
        await hub.SendAsync(new { protocol = "json", version = 1 });
        var handshake = await hub.NextAsync(ReplyTimeout);
        if (handshake.TryGetProperty("error", out var error))
        {
            throw new HubRefusedException(0, error.GetString() ?? "handshake failed");
        }

        return hub;
    }

    /// <summary>Invokes a hub method; returns its result, or throws with the hub's error message.</summary>
    public async Task<JsonElement?> InvokeAsync(string target, params object[] arguments)
    {
        var id = Interlocked.Increment(ref _invocations).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await SendAsync(new { type = 1, invocationId = id, target, arguments });
        while (true)
        {
            var message = await NextAsync(ReplyTimeout);
            if (message.TryGetProperty("type", out var type) && type.GetInt32() == 3
                && message.GetProperty("invocationId").GetString() == id)
            {
                if (message.TryGetProperty("error", out var error))
                {
                    throw new HubRefusedException(0, error.GetString()!);
                }

                return message.TryGetProperty("result", out var result) ? result : null;
            }
        }
    }

    /// <summary>
    /// Collects the arguments of server-to-client calls to <paramref name="target"/> until
    /// <paramref name="enough"/> says so or <paramref name="timeout"/> passes (machines here are shared and slow at times).
    /// </summary>
    public async Task<List<JsonElement>> CollectAsync(string target, Func<List<JsonElement>, bool> enough, TimeSpan? timeout = null)
    {
        var calls = new List<JsonElement>();
        var until = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(15));
        while (DateTime.UtcNow < until && !enough(calls))
        {
            try
            {
                var message = await NextAsync(until - DateTime.UtcNow);
                if (message.TryGetProperty("type", out var type) && type.GetInt32() == 1 && message.GetProperty("target").GetString() == target)
                {
                    calls.Add(message.GetProperty("arguments")[0]);
                }
            }
            catch (TimeoutException)
            {
                break;
            }
        }

        return calls;
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        try
        {
            await _socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", CancellationToken.None);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
            // Already gone.
        }

        try
        {
            await _receiving;
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException or ObjectDisposedException)
        {
            // The test host disposes its end once the close handshake is done; the receive loop may see that.
        }

        _socket.Dispose();
        _stop.Dispose();
    }

    private async Task<JsonElement> NextAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            return await _incoming.Reader.ReadAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("No hub message arrived in time.");
        }
    }

    private Task SendAsync(object message) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(message) + RecordSeparator), WebSocketMessageType.Text, true, CancellationToken.None);

    private async Task ReceiveAsync()
    {
        var buffer = new byte[64 * 1024];
        var pending = new StringBuilder();
        while (!_stop.IsCancellationRequested && _socket.State == WebSocketState.Open)
        {
            var result = await _socket.ReceiveAsync(buffer, _stop.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
            var text = pending.ToString();
            var last = text.LastIndexOf(RecordSeparator);
            if (last < 0)
            {
                continue;
            }

            foreach (var record in text[..last].Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
            {
                await _incoming.Writer.WriteAsync(JsonDocument.Parse(record).RootElement.Clone());
            }

            pending.Clear().Append(text[(last + 1)..]);
        }
    }
}

public sealed class HubRefusedException(int status, string message) : Exception(message)
{
    public int Status { get; } = status;
}
