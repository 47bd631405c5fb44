using Microsoft.EntityFrameworkCore;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>One point of a chart series; a null value is a gap (NaN was logged there, or nothing).</summary>
public readonly record struct SeriesPoint(long Step, double? Value);

/// <summary>A metric's series for a chart: every point, or a downsampled envelope when there are too many.</summary>
public sealed record Series(string RunId, string Key, IReadOnlyList<SeriesPoint> Points, bool Downsampled, long FromStep, long ToStep);

/// <summary>
/// Reads metric series for charts without ever sending more than about <c>maxPoints</c> per series. When the
/// range holds more, it reads the coarsest-enough level of <see cref="MetricRollup"/> buckets and returns
/// each bucket's first, lowest, highest and last point in step order (M4 downsampling: spikes survive).
/// That reads at most ~maxPoints/4 rows whatever the number of stored points, so time and memory do not
/// grow with the series; zooming asks again for the narrower step range and gets finer detail.
/// </summary>
public sealed class MetricSeries(IDbContextFactory<PortalDbContext> dbFactory)
{
    public const int DefaultMaxPoints = 1000;

    /// <summary>The fewest points a chart may ask for; shorter series are always read raw.</summary>
    public const int MinMaxPoints = 16;

    public async Task<Series> ReadAsync(string runId, string key, long? fromStep, long? toStep, int maxPoints, CancellationToken cancellationToken)
    {
        maxPoints = Math.Clamp(maxPoints, MinMaxPoints, 10_000);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var range = db.MetricPoints.AsNoTracking().Where(p => p.RunId == runId && p.Key == key);
        if (fromStep is { } from)
        {
            range = range.Where(p => p.Step >= from);
        }

        if (toStep is { } to)
        {
            range = range.Where(p => p.Step <= to);
        }

        // Counting stops at maxPoints + 1, so this costs the same for a thousand points or a billion.
        var few = await range.OrderBy(p => p.Step).ThenBy(p => p.Timestamp).Take(maxPoints + 1)
            .Select(p => new { p.Step, p.Value, p.IsNan }).ToListAsync(cancellationToken);
        if (few.Count <= maxPoints)
        {
            return few.Count == 0
                ? new Series(runId, key, [], false, 0, 0)
                : new Series(runId, key, [.. few.Select(p => new SeriesPoint(p.Step, p.IsNan ? null : p.Value))], false, few[0].Step, few[^1].Step);
        }

        var first = few[0].Step;
        var last = await range.MaxAsync(p => p.Step, cancellationToken);
        var buckets = Math.Max(1, maxPoints / 4);
        // The finest level that needs at most 4× the buckets drawn; groups of its buckets are then merged in
        // memory, so a zoom gets close to maxPoints points rather than a 16× coarser level's few.
        var level = 1;
        while (level < MetricRollup.Levels && MetricRollups.BucketOf(last, level) - MetricRollups.BucketOf(first, level) + 1 > buckets * 4)
        {
            level++;
        }

        var fromBucket = MetricRollups.BucketOf(first, level);
        var toBucket = MetricRollups.BucketOf(last, level);
        var group = Math.Max(1, (toBucket - fromBucket + buckets) / buckets);
        var rows = await db.MetricRollups.AsNoTracking()
            .Where(r => r.RunId == runId && r.Key == key && r.Level == level && r.Bucket >= fromBucket && r.Bucket <= toBucket)
            .OrderBy(r => r.Bucket).Take(buckets * 8)
            .ToListAsync(cancellationToken);
        var points = new List<SeriesPoint>(Math.Min(rows.Count, buckets) * 4);
        long? previous = null;
        foreach (var merged in rows.GroupBy(r => (r.Bucket - fromBucket) / group))
        {
            if (previous is { } p && merged.Key > p + 1)
            {
                points.Add(new SeriesPoint(merged.Min(r => r.FirstStep) - 1, null)); // buckets with only NaN or nothing: a gap
            }

            previous = merged.Key;
            var inRange = merged.ToList();
            var firstRow = inRange[0];
            var lastRow = inRange[^1];
            var min = inRange.MinBy(r => r.MinValue)!;
            var max = inRange.MaxBy(r => r.MaxValue)!;
            var corners = new[] { (firstRow.FirstStep, firstRow.FirstValue), (min.MinStep, min.MinValue), (max.MaxStep, max.MaxValue), (lastRow.LastStep, lastRow.LastValue) }
                .Where(c => c.Item1 >= first && c.Item1 <= last)
                .DistinctBy(c => c.Item1).OrderBy(c => c.Item1);
            points.AddRange(corners.Select(c => new SeriesPoint(c.Item1, c.Item2)));
        }

        return new Series(runId, key, points, true, first, last);
    }
}
