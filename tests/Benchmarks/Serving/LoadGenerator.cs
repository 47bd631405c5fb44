using System.Diagnostics;
using System.Net;
using System.Text;

namespace Portal.Benchmarks.Serving;

/// <summary>Latency percentiles and throughput of one load run.</summary>
internal sealed record LoadResult(int Sent, int Ok, int Failed, double Seconds, double P50Ms, double P99Ms, Dictionary<string, int> AnsweredBy)
{
    public double PerSecond => Ok / Seconds;
}

/// <summary>
/// Sends scoring requests two ways: open loop at a fixed rate (each request timed from when it was due, so a
/// slow server cannot hide its queue — no coordinated omission), and closed loop with N concurrent callers for
/// the most a path can take. One pooled client, keep-alive connections, loopback only.
/// </summary>
internal static class LoadGenerator
{
    public static HttpClient Client(string? bearer) => new(new SocketsHttpHandler
    {
        UseProxy = false,
        UseCookies = false,
        MaxConnectionsPerServer = 2048,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2),
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
        DefaultRequestHeaders = { Authorization = bearer is null ? null : new("Bearer", bearer) },
    };

    public static async Task<LoadResult> OpenLoopAsync(HttpClient http, Uri url, byte[] body, int rate, TimeSpan duration)
    {
        var total = (int)(rate * duration.TotalSeconds);
        var latencies = new double[total];
        var ok = 0;
        var failed = 0;
        var answeredBy = new Dictionary<string, int>();
        var started = Stopwatch.GetTimestamp();
        var tasks = new List<Task>(total);
        for (var i = 0; i < total; i++)
        {
            var due = started + (long)(i * (double)Stopwatch.Frequency / rate);
            var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due);
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait);
            }

            var index = i;
            tasks.Add(Task.Run(async () =>
            {
                var (success, by) = await SendAsync(http, url, body);
                latencies[index] = Stopwatch.GetElapsedTime(due).TotalMilliseconds;
                if (success)
                {
                    Interlocked.Increment(ref ok);
                    Count(answeredBy, by);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }));
        }

        await Task.WhenAll(tasks);
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        Array.Sort(latencies);
        return new LoadResult(total, ok, failed, seconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), answeredBy);
    }

    public static async Task<LoadResult> ClosedLoopAsync(HttpClient http, Uri url, byte[] body, int callers, TimeSpan duration)
    {
        var latencies = new System.Collections.Concurrent.ConcurrentBag<double>();
        var ok = 0;
        var failed = 0;
        var answeredBy = new Dictionary<string, int>();
        var until = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
        var started = Stopwatch.GetTimestamp();
        await Task.WhenAll(Enumerable.Range(0, callers).Select(_ => Task.Run(async () =>
        {
            var mine = new List<double>();
            while (Stopwatch.GetTimestamp() < until)
            {
                var sent = Stopwatch.GetTimestamp();
                var (success, by) = await SendAsync(http, url, body);
                mine.Add(Stopwatch.GetElapsedTime(sent).TotalMilliseconds);
                if (success)
                {
                    Interlocked.Increment(ref ok);
                    Count(answeredBy, by);
                }
                else
                {
                    Interlocked.Increment(ref failed);
                }
            }

            foreach (var l in mine)
            {
                latencies.Add(l);
            }
        })));
        var seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        var sorted = latencies.ToArray();
        Array.Sort(sorted);
        return new LoadResult(sorted.Length, ok, failed, seconds, Percentile(sorted, 0.5), Percentile(sorted, 0.99), answeredBy);
    }

    public static byte[] Rows(string row, int count) =>
        Encoding.UTF8.GetBytes("{\"inputs\":[" + string.Join(",", Enumerable.Repeat(row, count)) + "]}");

    private static async Task<(bool Ok, string? By)> SendAsync(HttpClient http, Uri url, byte[] body)
    {
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await http.PostAsync(url, content);
            await response.Content.LoadIntoBufferAsync();
            return (response.StatusCode == HttpStatusCode.OK, response.Headers.TryGetValues("x-deployment", out var by) ? by.First() : null);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return (false, null);
        }
    }

    private static void Count(Dictionary<string, int> counts, string? key)
    {
        if (key is null)
        {
            return;
        }

        lock (counts)
        {
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
    }

    private static double Percentile(double[] sorted, double p) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];
}
