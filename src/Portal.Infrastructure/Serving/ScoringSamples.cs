using System.Text.Json;
using System.Threading.Channels;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// Sampled scoring requests on their way to the database: the gateway offers them here without waiting
/// (a full queue drops the sample and counts it), and <see cref="MonitoringWorker"/> writes them in batches.
/// Sensitive columns of the training data are masked before anything is kept.
/// </summary>
public sealed class ScoringSamples
{
    public const int QueueCapacity = 10_000;
    private readonly Channel<ScoringSample> _queue = Channel.CreateBounded<ScoringSample>(new BoundedChannelOptions(QueueCapacity)
    {
        FullMode = BoundedChannelFullMode.DropWrite,
        SingleReader = true,
    });

    private long _dropped;

    public long Dropped => Interlocked.Read(ref _dropped);

    public ChannelReader<ScoringSample> Reader => _queue.Reader;

    public void Offer(DeploymentRoute deployment, DateTime at, int status, double latencyMs, JsonElement inputs, int rows, JsonElement? predictions, string? error,
        bool sampleTraffic, int rowsKept)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var sample = new ScoringSample
        {
            Endpoint = deployment.Endpoint,
            Deployment = deployment.Name,
            At = at,
            Status = status,
            LatencyMs = Math.Round(latencyMs, 3),
            Rows = rows,
            Inputs = Redacted(inputs, deployment.SensitiveColumns, rowsKept),
            Outputs = predictions is { } p ? First(p, rowsKept) : JsonSerializer.Serialize(new { error }),
            IsSampleTraffic = sampleTraffic,
        };
        if (!_queue.Writer.TryWrite(sample))
        {
            Interlocked.Increment(ref _dropped);
        }
    }

    /// <summary>The first rows as JSON, each sensitive column's value replaced by the mask.</summary>
    public static string Redacted(JsonElement rows, IReadOnlySet<string> sensitive, int keep)
    {
        ArgumentNullException.ThrowIfNull(sensitive);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var row in rows.EnumerateArray().Take(keep))
            {
                if (row.ValueKind != JsonValueKind.Object)
                {
                    row.WriteTo(json);
                    continue;
                }

                json.WriteStartObject();
                foreach (var property in row.EnumerateObject())
                {
                    if (sensitive.Contains(property.Name))
                    {
                        json.WriteString(property.Name, PersonalData.Mask);
                    }
                    else
                    {
                        property.WriteTo(json);
                    }
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private static string First(JsonElement predictions, int keep)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var p in predictions.EnumerateArray().Take(keep))
            {
                p.WriteTo(json);
            }

            json.WriteEndArray();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
