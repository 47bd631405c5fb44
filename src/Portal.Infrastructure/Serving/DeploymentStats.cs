namespace Portal.Infrastructure.Serving;

/// <summary>What the gateway answered, as monitoring counts it.</summary>
public enum Outcome
{
    /// <summary>The model answered (200).</summary>
    Answered,

    /// <summary>The caller's request was wrong (400, 413): not held against the deployment.</summary>
    ClientError,

    /// <summary>The deployment failed the caller (408, 424, 429, 502, 503).</summary>
    Error,
}

/// <summary>
/// One deployment's live figures: 5-second buckets over the last hour (requests, answers by status, latency
/// histograms for the gateway, the model and the whole, mirror and restart counts), and the sliding window
/// of inputs and predictions drift is computed over. Written by the gateway on every request under a short lock.
/// </summary>
public sealed class DeploymentStats
{
    public const int BucketSeconds = 5;
    public const int BucketCount = 720;

    private readonly Bucket[] _buckets = new Bucket[BucketCount];
    private readonly Lock _gate = new();

    public DeploymentStats(string endpoint, string deployment, int windowCapacity)
    {
        Endpoint = endpoint;
        Deployment = deployment;
        for (var i = 0; i < BucketCount; i++)
        {
            _buckets[i] = new Bucket();
        }

        Window = new InputWindow(windowCapacity);
    }

    public string Endpoint { get; }

    public string Deployment { get; }

    /// <summary>Live inputs and predictions for drift and data quality.</summary>
    public InputWindow Window { get; }

    /// <summary>The last drift computation (the monitor worker refreshes it).</summary>
    public DriftReport? LatestDrift { get; set; }

    /// <summary>Requests being answered right now.</summary>
    public long InFlight => Interlocked.Read(ref _inFlight);

    private long _inFlight;

    public void Enter() => Interlocked.Increment(ref _inFlight);

    public void Leave() => Interlocked.Decrement(ref _inFlight);

    public static Outcome Classify(int status) => status switch
    {
        >= 200 and < 300 => Outcome.Answered,
        400 or 413 or 401 or 403 or 404 => Outcome.ClientError,
        _ => Outcome.Error,
    };

    public void Record(DateTime now, int status, double totalMs, double? modelMs, bool sampleTraffic = false)
    {
        lock (_gate)
        {
            var bucket = Current(now);
            bucket.Requests++;
            if (sampleTraffic)
            {
                bucket.SampleTraffic++;
            }

            switch (Classify(status))
            {
                case Outcome.Error:
                    bucket.Errors++;
                    break;
                case Outcome.ClientError:
                    bucket.ClientErrors++;
                    break;
            }

            bucket.ByStatus[status] = bucket.ByStatus.GetValueOrDefault(status) + 1;
            bucket.Total[LatencyHistogram.IndexOf(totalMs)]++;
            if (modelMs is { } model)
            {
                bucket.Model[LatencyHistogram.IndexOf(model)]++;
                bucket.Gateway[LatencyHistogram.IndexOf(Math.Max(0, totalMs - model))]++;
            }
        }
    }

    /// <summary>A row refused because a feature had the wrong type or was missing (data quality).</summary>
    public void RecordTypeError(DateTime now, string feature)
    {
        lock (_gate)
        {
            var bucket = Current(now);
            bucket.TypeErrors[feature] = bucket.TypeErrors.GetValueOrDefault(feature) + 1;
        }
    }

    public void RecordMirror(DateTime now, bool failed, bool? agreed, bool dropped = false)
    {
        lock (_gate)
        {
            var bucket = Current(now);
            if (dropped)
            {
                bucket.MirrorDropped++;
                return;
            }

            bucket.Mirrored++;
            if (failed)
            {
                bucket.MirrorFailed++;
            }
            else if (agreed is { } same)
            {
                bucket.MirrorCompared++;
                if (!same)
                {
                    bucket.MirrorDisagreed++;
                }
            }
        }
    }

    public void RecordRestart(DateTime now)
    {
        lock (_gate)
        {
            Current(now).Restarts++;
        }
    }

    /// <summary>Everything recorded from <paramref name="from"/> up to now, summed.</summary>
    public StatsSummary Summarise(DateTime from, DateTime now) => SummariseAll([this], from, now);

    /// <summary>The figures of several deployments together (the primaries of a canary), as if they were one.</summary>
    public static StatsSummary SummariseAll(IEnumerable<DeploymentStats> all, DateTime from, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(all);
        var sum = new Bucket();
        foreach (var stats in all)
        {
            stats.AddTo(sum, from, now);
        }

        return StatsSummary.Of(sum, Math.Min(Math.Max(1, (now - from).TotalSeconds), BucketCount * BucketSeconds));
    }

    private void AddTo(Bucket sum, DateTime from, DateTime now)
    {
        lock (_gate)
        {
            var last = Period(now);
            AddPeriods(sum, Math.Max(Period(from), last - BucketCount + 1), last + 1);
        }
    }

    /// <summary>Adds the buckets of periods <paramref name="start"/> (inclusive) to <paramref name="end"/> (exclusive) that still hold them; under the gate.</summary>
    private void AddPeriods(Bucket sum, long start, long end)
    {
        for (var period = start; period < end; period++)
        {
            var bucket = _buckets[Index(period)];
            if (bucket.Period == period)
            {
                sum.Add(bucket);
            }
        }
    }

    /// <summary>The figures per <paramref name="step"/> from <paramref name="from"/> to now, for charts.</summary>
    public IReadOnlyList<(DateTime At, StatsSummary Stats)> Series(DateTime from, DateTime now, TimeSpan step)
    {
        var points = new List<(DateTime, StatsSummary)>();
        var perStep = Math.Max(1, (int)(step.TotalSeconds / BucketSeconds));
        lock (_gate)
        {
            var last = Period(now);
            var first = Math.Max(Period(from), last - BucketCount + 1);
            first -= first % perStep;
            for (var start = first; start <= last; start += perStep)
            {
                var sum = new Bucket();
                AddPeriods(sum, start, Math.Min(start + perStep, last + 1));

                var span = Math.Min(perStep, last - start + 1) * BucketSeconds;
                points.Add((DateTime.UnixEpoch.AddSeconds(start * BucketSeconds), StatsSummary.Of(sum, span)));
            }
        }

        return points;
    }

    /// <summary>Whole minutes that ended before <paramref name="now"/> and after <paramref name="after"/>, for the minute table.</summary>
    public IReadOnlyList<(DateTime Minute, StatsSummary Stats, Bucket Raw)> FinishedMinutes(DateTime after, DateTime now)
    {
        var minutes = new List<(DateTime, StatsSummary, Bucket)>();
        const int perMinute = 60 / BucketSeconds;
        lock (_gate)
        {
            var last = Period(now);
            var currentMinuteStart = last - (last % perMinute);
            var first = Math.Max(Period(after), last - BucketCount + 1);
            first -= first % perMinute;
            for (var start = first; start + perMinute <= currentMinuteStart; start += perMinute)
            {
                var sum = new Bucket();
                AddPeriods(sum, start, start + perMinute);

                var minute = DateTime.UnixEpoch.AddSeconds(start * BucketSeconds);
                if (minute > after && sum.Requests + sum.Mirrored + sum.Restarts > 0)
                {
                    minutes.Add((minute, StatsSummary.Of(sum, 60), sum));
                }
            }
        }

        return minutes;
    }

    private Bucket Current(DateTime now)
    {
        var period = Period(now);
        var bucket = _buckets[Index(period)];
        if (bucket.Period != period)
        {
            bucket.Reset(period);
        }

        return bucket;
    }

    private static long Period(DateTime at) => (long)Math.Floor((at - DateTime.UnixEpoch).TotalSeconds / BucketSeconds);

    private static int Index(long period) => (int)(((period % BucketCount) + BucketCount) % BucketCount);

    /// <summary>Counts of one 5-second period.</summary>
    public sealed class Bucket
    {
        public long Period { get; private set; } = long.MinValue;

        public long Requests { get; set; }

        public long Errors { get; set; }

        public long ClientErrors { get; set; }

        public long SampleTraffic { get; set; }

        public Dictionary<int, long> ByStatus { get; } = [];

        public Dictionary<string, long> TypeErrors { get; } = new(StringComparer.Ordinal);

        public long[] Total { get; } = new long[LatencyHistogram.BucketCount];

        public long[] Model { get; } = new long[LatencyHistogram.BucketCount];

        public long[] Gateway { get; } = new long[LatencyHistogram.BucketCount];

        public long Mirrored { get; set; }

        public long MirrorFailed { get; set; }

        public long MirrorCompared { get; set; }

        public long MirrorDisagreed { get; set; }

        public long MirrorDropped { get; set; }

        public long Restarts { get; set; }

        public void Reset(long period)
        {
            Period = period;
            Requests = Errors = ClientErrors = SampleTraffic = Mirrored = MirrorFailed = MirrorCompared = MirrorDisagreed = MirrorDropped = Restarts = 0;
            ByStatus.Clear();
            TypeErrors.Clear();
            Array.Clear(Total);
            Array.Clear(Model);
            Array.Clear(Gateway);
        }

        public void Add(Bucket other)
        {
            Requests += other.Requests;
            Errors += other.Errors;
            ClientErrors += other.ClientErrors;
            SampleTraffic += other.SampleTraffic;
            Mirrored += other.Mirrored;
            MirrorFailed += other.MirrorFailed;
            MirrorCompared += other.MirrorCompared;
            MirrorDisagreed += other.MirrorDisagreed;
            MirrorDropped += other.MirrorDropped;
            Restarts += other.Restarts;
            foreach (var (status, count) in other.ByStatus)
            {
                ByStatus[status] = ByStatus.GetValueOrDefault(status) + count;
            }

            foreach (var (feature, count) in other.TypeErrors)
            {
                TypeErrors[feature] = TypeErrors.GetValueOrDefault(feature) + count;
            }

            LatencyHistogram.Add(Total, other.Total);
            LatencyHistogram.Add(Model, other.Model);
            LatencyHistogram.Add(Gateway, other.Gateway);
        }
    }
}

/// <summary>A deployment's figures over a span: rates, error share, latency quantiles, mirror agreement.</summary>
public sealed record StatsSummary(
    long Requests,
    long Errors,
    long ClientErrors,
    double RequestsPerSecond,
    IReadOnlyDictionary<int, long> ByStatus,
    double? P50Ms,
    double? P95Ms,
    double? P99Ms,
    double? ModelP50Ms,
    double? ModelP95Ms,
    double? ModelP99Ms,
    double? GatewayP50Ms,
    double? GatewayP95Ms,
    double? GatewayP99Ms,
    long Mirrored,
    long MirrorFailed,
    long MirrorCompared,
    long MirrorDisagreed,
    long MirrorDropped,
    long Restarts,
    long SampleTraffic,
    IReadOnlyDictionary<string, long> TypeErrors)
{
    /// <summary>Share of requests the deployment failed (client mistakes left out); null with no requests.</summary>
    public double? ErrorRate => Requests - ClientErrors <= 0 ? null : (double)Errors / (Requests - ClientErrors);

    public double? MirrorDisagreement => MirrorCompared == 0 ? null : (double)MirrorDisagreed / MirrorCompared;

    internal static StatsSummary Of(DeploymentStats.Bucket b, double seconds) => new(
        b.Requests, b.Errors, b.ClientErrors, b.Requests / Math.Max(1, seconds), new Dictionary<int, long>(b.ByStatus),
        LatencyHistogram.Quantile(b.Total, 0.5), LatencyHistogram.Quantile(b.Total, 0.95), LatencyHistogram.Quantile(b.Total, 0.99),
        LatencyHistogram.Quantile(b.Model, 0.5), LatencyHistogram.Quantile(b.Model, 0.95), LatencyHistogram.Quantile(b.Model, 0.99),
        LatencyHistogram.Quantile(b.Gateway, 0.5), LatencyHistogram.Quantile(b.Gateway, 0.95), LatencyHistogram.Quantile(b.Gateway, 0.99),
        b.Mirrored, b.MirrorFailed, b.MirrorCompared, b.MirrorDisagreed, b.MirrorDropped, b.Restarts, b.SampleTraffic,
        new Dictionary<string, long>(b.TypeErrors, StringComparer.Ordinal));
}
