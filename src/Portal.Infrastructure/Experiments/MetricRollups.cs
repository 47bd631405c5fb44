using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>
/// Keeps <see cref="MetricRollup"/> buckets current: a batch is summarised per key, level and bucket in
/// memory, then merged into the stored buckets with one upsert (first/last by step, min/max by value). The
/// merge is order-independent and idempotent, so out-of-order steps and retried batches are both fine.
/// </summary>
internal static class MetricRollups
{
    private const int RowsPerStatement = 200;

    private const string Columns = """INSERT INTO "MetricRollups" ("RunId", "Key", "Level", "Bucket", "FirstStep", "FirstValue", "LastStep", "LastValue", "MinStep", "MinValue", "MaxStep", "MaxValue") VALUES """;

    /// <summary>One bucket, merged into what is stored.</summary>
    public const string Upsert = Columns + "(@r, @k, @l, @b, @fs, @fv, @ls, @lv, @ns, @nv, @xs, @xv)" + Merge;

    private const string Merge = """
         ON CONFLICT ("RunId", "Key", "Level", "Bucket") DO UPDATE SET
         "FirstValue" = CASE WHEN excluded."FirstStep" < "MetricRollups"."FirstStep" THEN excluded."FirstValue" ELSE "MetricRollups"."FirstValue" END,
         "FirstStep" = CASE WHEN excluded."FirstStep" < "MetricRollups"."FirstStep" THEN excluded."FirstStep" ELSE "MetricRollups"."FirstStep" END,
         "LastValue" = CASE WHEN excluded."LastStep" >= "MetricRollups"."LastStep" THEN excluded."LastValue" ELSE "MetricRollups"."LastValue" END,
         "LastStep" = CASE WHEN excluded."LastStep" >= "MetricRollups"."LastStep" THEN excluded."LastStep" ELSE "MetricRollups"."LastStep" END,
         "MinStep" = CASE WHEN excluded."MinValue" < "MetricRollups"."MinValue" THEN excluded."MinStep" ELSE "MetricRollups"."MinStep" END,
         "MinValue" = CASE WHEN excluded."MinValue" < "MetricRollups"."MinValue" THEN excluded."MinValue" ELSE "MetricRollups"."MinValue" END,
         "MaxStep" = CASE WHEN excluded."MaxValue" > "MetricRollups"."MaxValue" THEN excluded."MaxStep" ELSE "MetricRollups"."MaxStep" END,
         "MaxValue" = CASE WHEN excluded."MaxValue" > "MetricRollups"."MaxValue" THEN excluded."MaxValue" ELSE "MetricRollups"."MaxValue" END
        """;

    public static long BucketOf(long step, int level) => step >> (4 * level);

    public static async Task MergeAsync(PortalDbContext db, string runId, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        var buckets = Summarise(points);
        if (buckets.Count == 0)
        {
            return;
        }

        var rows = buckets.ToList();
        var connection = db.Database.GetDbConnection();
        for (var start = 0; start < rows.Count; start += RowsPerStatement)
        {
            await using var command = connection.CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            var sql = new StringBuilder(Columns);
            TrackingStore.AddParameter(command, "@r", runId);
            var count = Math.Min(RowsPerStatement, rows.Count - start);
            for (var i = 0; i < count; i++)
            {
                var ((key, level, bucket), s) = rows[start + i];
                sql.Append(i > 0 ? "," : "").Append(CultureInfo.InvariantCulture, $"(@r, @k{i}, @l{i}, @b{i}, @fs{i}, @fv{i}, @ls{i}, @lv{i}, @ns{i}, @nv{i}, @xs{i}, @xv{i})");
                TrackingStore.AddParameter(command, $"@k{i}", key);
                TrackingStore.AddParameter(command, $"@l{i}", level);
                TrackingStore.AddParameter(command, $"@b{i}", bucket);
                TrackingStore.AddParameter(command, $"@fs{i}", s.FirstStep);
                TrackingStore.AddParameter(command, $"@fv{i}", s.FirstValue);
                TrackingStore.AddParameter(command, $"@ls{i}", s.LastStep);
                TrackingStore.AddParameter(command, $"@lv{i}", s.LastValue);
                TrackingStore.AddParameter(command, $"@ns{i}", s.MinStep);
                TrackingStore.AddParameter(command, $"@nv{i}", s.MinValue);
                TrackingStore.AddParameter(command, $"@xs{i}", s.MaxStep);
                TrackingStore.AddParameter(command, $"@xv{i}", s.MaxValue);
            }

            command.CommandText = sql.Append(Merge).ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The batch's buckets at every level (NaN left out).</summary>
    public static Dictionary<(string Key, int Level, long Bucket), Summary> Summarise(IReadOnlyList<MetricPoint> points)
    {
        var buckets = new Dictionary<(string Key, int Level, long Bucket), Summary>();
        foreach (var p in points)
        {
            if (double.IsNaN(p.Value))
            {
                continue;
            }

            for (var level = 1; level <= MetricRollup.Levels; level++)
            {
                var id = (p.Key, level, BucketOf(p.Step, level));
                buckets[id] = buckets.TryGetValue(id, out var s) ? s.With(p.Step, p.Value) : new Summary(p.Step, p.Value);
            }
        }

        return buckets;
    }

    internal readonly record struct Summary(long FirstStep, double FirstValue, long LastStep, double LastValue, long MinStep, double MinValue, long MaxStep, double MaxValue)
    {
        public Summary(long step, double value)
            : this(step, value, step, value, step, value, step, value)
        {
        }

        public Summary With(long step, double value) => new(
            step < FirstStep ? step : FirstStep, step < FirstStep ? value : FirstValue,
            step >= LastStep ? step : LastStep, step >= LastStep ? value : LastValue,
            value < MinValue ? step : MinStep, value < MinValue ? value : MinValue,
            value > MaxValue ? step : MaxStep, value > MaxValue ? value : MaxValue);
    }
}
