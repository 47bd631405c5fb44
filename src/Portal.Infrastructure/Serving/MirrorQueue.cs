using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Configuration;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// Mirrored requests: copies of live requests sent to the mirror deployment after the caller has its answer,
/// so mirroring never touches the caller's response or latency. The queue is bounded (a full queue drops
/// the copy and counts it), a mirror with no free slot is skipped rather than queued behind live traffic,
/// and failures are only counted. Each answer is compared with the primary's: the disagreement rate shows
/// on the endpoint page.
/// </summary>
public sealed class MirrorQueue : BackgroundService
{
    private const int Senders = 2;

    /// <summary>Two probabilities within this of each other count as the same answer.</summary>
    public const double Tolerance = 0.01;

    private readonly Channel<(DeploymentRoute Mirror, byte[] Body, int Rows, JsonElement Primary)> _queue;
    private readonly ModelForwarder _forwarder;
    private readonly TimeProvider _time;

    public MirrorQueue(ModelForwarder forwarder, IOptions<PortalOptions> options, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(options);
        _queue = Channel.CreateBounded<(DeploymentRoute, byte[], int, JsonElement)>(new BoundedChannelOptions(options.Value.Deployments.MirrorQueueCapacity)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
        });
        _forwarder = forwarder;
        _time = time;
    }

    public void Offer(DeploymentRoute mirror, byte[] body, int rows, JsonElement primaryPredictions)
    {
        ArgumentNullException.ThrowIfNull(mirror);
        if (!_queue.Writer.TryWrite((mirror, body, rows, primaryPredictions)))
        {
            mirror.Stats.RecordMirror(_time.GetUtcNow().UtcDateTime, failed: false, agreed: null, dropped: true);
            mirror.Metrics.Mirrored("dropped");
        }
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, Senders).Select(_ => SendAsync(stoppingToken)));

    private async Task SendAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var (mirror, body, rows, primary) in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                var now = _time.GetUtcNow().UtcDateTime;
                if (!mirror.IsServing || !mirror.Limiter.Wait(0, CancellationToken.None))
                {
                    mirror.Stats.RecordMirror(now, failed: false, agreed: null, dropped: true);
                    mirror.Metrics.Mirrored("dropped");
                    continue;
                }

                try
                {
                    var answer = await _forwarder.ForwardAsync(mirror, body, rows, stoppingToken);
                    using var predictions = answer.Predictions;
                    var agreed = predictions is null ? (bool?)null : Agree(primary, predictions.RootElement.GetProperty("predictions"));
                    mirror.Stats.RecordMirror(_time.GetUtcNow().UtcDateTime, failed: predictions is null, agreed);
                    mirror.Metrics.Mirrored(predictions is null ? "failed" : "answered");
                }
                finally
                {
                    mirror.Limiter.Release();
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Whether two prediction lists say the same: numbers within <see cref="Tolerance"/>, anything else equal.</summary>
    public static bool Agree(JsonElement primary, JsonElement mirror)
    {
        if (primary.ValueKind != JsonValueKind.Array || mirror.ValueKind != JsonValueKind.Array || primary.GetArrayLength() != mirror.GetArrayLength())
        {
            return false;
        }

        foreach (var (a, b) in primary.EnumerateArray().Zip(mirror.EnumerateArray()))
        {
            if (a.ValueKind == JsonValueKind.Number && b.ValueKind == JsonValueKind.Number)
            {
                if (Math.Abs(a.GetDouble() - b.GetDouble()) > Tolerance)
                {
                    return false;
                }
            }
            else if (a.GetRawText() != b.GetRawText())
            {
                return false;
            }
        }

        return true;
    }
}
