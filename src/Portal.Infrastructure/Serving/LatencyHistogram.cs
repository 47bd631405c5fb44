namespace Portal.Infrastructure.Serving;

/// <summary>
/// Latency buckets growing by 20 % from 0.01 ms to beyond 10 minutes: a quantile read from them is within
/// about 10 % of the true value, and a bucket array is cheap to add to per request and to sum per minute.
/// </summary>
public static class LatencyHistogram
{
    public const int BucketCount = 100;
    private const double First = 0.01;
    private const double Growth = 1.2;
    private static readonly double LogGrowth = Math.Log(Growth);

    /// <summary>Upper bound (ms) of bucket <paramref name="index"/>.</summary>
    public static double UpperBound(int index) => First * Math.Pow(Growth, index + 1);

    public static int IndexOf(double milliseconds)
    {
        if (!(milliseconds > First))
        {
            return 0;
        }

        return Math.Clamp((int)(Math.Log(milliseconds / First) / LogGrowth), 0, BucketCount - 1);
    }

    public static void Add(long[] into, long[] from)
    {
        for (var i = 0; i < BucketCount && i < from.Length; i++)
        {
            into[i] += from[i];
        }
    }

    /// <summary>The <paramref name="q"/> quantile (0–1) in ms, interpolated inside its bucket; null when empty.</summary>
    public static double? Quantile(long[] counts, double q)
    {
        long total = 0;
        foreach (var c in counts)
        {
            total += c;
        }

        if (total == 0)
        {
            return null;
        }

        var rank = q * total;
        long seen = 0;
        for (var i = 0; i < counts.Length; i++)
        {
            if (counts[i] == 0)
            {
                continue;
            }

            if (seen + counts[i] >= rank)
            {
                var lower = i == 0 ? 0 : UpperBound(i - 1);
                var upper = UpperBound(i);
                var within = counts[i] == 0 ? 0 : (rank - seen) / counts[i];
                return lower + ((upper - lower) * Math.Clamp(within, 0, 1));
            }

            seen += counts[i];
        }

        return UpperBound(counts.Length - 1);
    }
}
