using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Http;

namespace Portal.Infrastructure.Serving;

/// <summary>Told how an instance fared, so one that keeps failing is taken out and restarted.</summary>
public interface IInstanceHealth
{
    void Succeeded(Guid instance);

    void Failed(Guid instance, string problem);
}

/// <summary>What became of a forwarded request: the model's answer, or why there is none.</summary>
public sealed record ModelAnswer(int Status, byte[]? Body, JsonDocument? Predictions, double? ModelMs, string? Title, string? Detail, int? ModelStatus)
{
    public static ModelAnswer Failure(int status, string title, string detail, double? modelMs = null, int? modelStatus = null) =>
        new(status, null, null, modelMs, title, detail, modelStatus);
}

/// <summary>
/// Sends a scoring body to a ready instance of a deployment over pooled keep-alive connections — once more to a
/// sibling when the first refuses the connection — and judges what comes back: a predictions list with one
/// answer per row, or a failure named for the caller. Each outcome is reported to <see cref="IInstanceHealth"/>.
/// Live requests and mirrored copies both go through here.
/// </summary>
public sealed class ModelForwarder(IInstanceHealth health, IOptions<PortalOptions> options) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        AllowAutoRedirect = false,
        AutomaticDecompression = DecompressionMethods.None,
        ConnectTimeout = TimeSpan.FromSeconds(2),
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
        PooledConnectionLifetime = TimeSpan.FromMinutes(10),
        MaxConnectionsPerServer = 4096,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    };

    /// <summary>Sends the body to a ready instance (another one if it refuses the connection) and judges the answer.</summary>
    public async Task<ModelAnswer> ForwardAsync(DeploymentRoute deployment, byte[] body, int rows, CancellationToken aborted)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var instance = deployment.PickInstance();
        if (instance is null)
        {
            return ModelAnswer.Failure(503, "Deployment not ready", $"Deployment {deployment.Name} has no ready instance right now.");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(aborted);
        timeout.CancelAfter(deployment.RequestTimeoutMs);
        for (var attempt = 0; ; attempt++)
        {
            var sent = Stopwatch.GetTimestamp();
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Post, instance.ScoreUri) { Content = new ByteArrayContent(body) };
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
                using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
                var bytes = await BoundedBody.ReadAsync(response.Content, options.Value.Deployments.MaxResponseMegabytes * 1024L * 1024, timeout.Token);
                return Judge(deployment, instance, (int)response.StatusCode, bytes, rows, Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            catch (OperationCanceledException) when (!aborted.IsCancellationRequested)
            {
                health.Failed(instance.Id, $"requests time out after {deployment.RequestTimeoutMs:N0} ms");
                return ModelAnswer.Failure(408, "Request timeout",
                    $"Deployment {deployment.Name} did not answer within its request timeout of {deployment.RequestTimeoutMs:N0} ms.", Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
            catch (HttpRequestException e) when (attempt == 0 && IsRefused(e) && deployment.PickInstance(instance.Id) is { } other)
            {
                // The instance is gone or restarting; the same request to its sibling is safe (nothing was processed).
                health.Failed(instance.Id, "refuses connections");
                instance = other;
            }
            catch (HttpRequestException e) when (IsRefused(e))
            {
                // Nothing was processed, and no sibling is ready: the deployment cannot answer now; a retry later may.
                health.Failed(instance.Id, "refuses connections");
                return ModelAnswer.Failure(503, "Deployment not ready", $"Instance {instance.Index} of deployment {deployment.Name} refused the connection (it is restarting) and no other instance is ready.");
            }
            catch (HttpRequestException e)
            {
                health.Failed(instance.Id, $"drops connections ({e.Message})");
                return ModelAnswer.Failure(502, "Bad gateway", $"Instance {instance.Index} of deployment {deployment.Name} dropped the connection: {e.Message}", Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
            }
        }
    }

    private ModelAnswer Judge(DeploymentRoute deployment, InstanceRoute instance, int status, byte[]? bytes, int rows, double modelMs)
    {
        if (bytes is null)
        {
            health.Failed(instance.Id, "answers with more than the response limit");
            return ModelAnswer.Failure(502, "Bad gateway", $"Deployment {deployment.Name} answered with more than {options.Value.Deployments.MaxResponseMegabytes} MB.", modelMs);
        }

        if (status is < 200 or > 299)
        {
            // The model refused this input; the instance itself is fine.
            health.Succeeded(instance.Id);
            return ModelAnswer.Failure(424, "The model failed", $"Deployment {deployment.Name}'s model answered {status}: {ModelError(bytes)}", modelMs, status);
        }

        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(bytes);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("predictions", out var predictions) || predictions.ValueKind != JsonValueKind.Array)
            {
                throw new JsonException("it has no list of predictions");
            }

            if (predictions.GetArrayLength() != rows)
            {
                throw new JsonException($"it has {predictions.GetArrayLength()} predictions for {rows} rows");
            }

            health.Succeeded(instance.Id);
            return new ModelAnswer(200, bytes, document, modelMs, null, null, null);
        }
        catch (JsonException e)
        {
            document?.Dispose();
            health.Failed(instance.Id, $"answers garbage ({Shorten(e.Message, 120)})");
            return ModelAnswer.Failure(502, "Bad gateway", $"Deployment {deployment.Name} answered something that is not a predictions document: {Shorten(e.Message, 200)}", modelMs);
        }
    }

    private static string ModelError(byte[] bytes)
    {
        try
        {
            using var document = JsonDocument.Parse(bytes);
            if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("error", out var error))
            {
                return Shorten(error.ToString(), 500);
            }
        }
        catch (JsonException)
        {
        }

        return Shorten(Encoding.UTF8.GetString(bytes, 0, Math.Min(bytes.Length, 500)), 500);
    }

    private static bool IsRefused(HttpRequestException e) =>
        e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } || e.HttpRequestError == HttpRequestError.ConnectionError;

    private static string Shorten(string text, int max) => text.Length <= max ? text : text[..max] + "…";

    public void Dispose() => _http.Dispose();
}
