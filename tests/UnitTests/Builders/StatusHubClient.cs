using System.Net.Http.Headers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace Portal.UnitTests.Builders;

/// <summary>
/// The SignalR .NET client — what a dashboard or script written in C# uses — connected to the portal's status
/// hub over the test server's WebSockets. Collects the hub's "events" batches as they arrive.
/// </summary>
public sealed class StatusHubClient : IAsyncDisposable
{
    private readonly Channel<JsonElement> _batches = Channel.CreateUnbounded<JsonElement>();

    private StatusHubClient(HubConnection connection)
    {
        Connection = connection;
        Connection.On<JsonElement>("events", batch => _batches.Writer.TryWrite(batch));
    }

    public HubConnection Connection { get; }

    public static async Task<StatusHubClient> ConnectAsync(PortalFactory portal, AuthenticationHeaderValue? authorization, string? accessToken = null)
    {
        var connection = new HubConnectionBuilder()
            .WithUrl(new Uri(portal.Server.BaseAddress, "hubs/status"), options =>
            {
                options.Transports = HttpTransportType.WebSockets;
                options.HttpMessageHandlerFactory = _ => portal.Server.CreateHandler();
                options.WebSocketFactory = async (context, cancel) =>
                {
                    var sockets = portal.Server.CreateWebSocketClient();
                    sockets.ConfigureRequest = request =>
                    {
                        if (authorization is not null)
                        {
                            request.Headers.Authorization = authorization.ToString();
                        }
                    };
                    // Browsers cannot set headers on a WebSocket, so their clients put the token in the query.
                    var uri = accessToken is null ? context.Uri
                        : new Uri(context.Uri + "&access_token=" + Uri.EscapeDataString(accessToken));
                    return await sockets.ConnectAsync(uri, cancel);
                };
                if (authorization is not null)
                {
                    options.Headers["Authorization"] = authorization.ToString();
                }

                if (accessToken is not null)
                {
                    options.AccessTokenProvider = () => Task.FromResult<string?>(accessToken);
                }
            })
            .Build();
        var client = new StatusHubClient(connection);
        try
        {
            await connection.StartAsync();
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }

        return client;
    }

    public Task<string> SubscribeAsync(string topic) => Connection.InvokeAsync<string>("Subscribe", topic);

    /// <summary>
    /// Collects event batches until <paramref name="enough"/> says so or <paramref name="timeout"/> passes
    /// (machines here are shared and slow at times).
    /// </summary>
    public async Task<List<JsonElement>> CollectAsync(Func<List<JsonElement>, bool> enough, TimeSpan? timeout = null)
    {
        var batches = new List<JsonElement>();
        using var until = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(15));
        try
        {
            while (!enough(batches))
            {
                batches.Add(await _batches.Reader.ReadAsync(until.Token));
            }
        }
        catch (OperationCanceledException)
        {
            // Time is up: the caller asserts on what arrived.
        }

        return batches;
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();
}
