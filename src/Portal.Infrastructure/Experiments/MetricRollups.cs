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
    private const int RowsPerStatement = 500;

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
            var keys = new SqlKeys(command);
            TrackingSql.AddParameter(command, "@r", runId);
            var count = Math.Min(RowsPerStatement, rows.Count - start);
            for (var i = 0; i < count; i++)
            {
                var ((key, level, bucket), s) = rows[start + i];
                sql.Append(i > 0 ? ",(@r," : "(@r,").Append(keys.Of(key)).Append(',')
                    .Append(level.ToString(CultureInfo.InvariantCulture)).Append(',').Append(bucket.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(s.FirstStep.ToString(CultureInfo.InvariantCulture)).Append(',').Append(SqlKeys.Number(command, s.FirstValue)).Append(',')
                    .Append(s.LastStep.ToString(CultureInfo.InvariantCulture)).Append(',').Append(SqlKeys.Number(command, s.LastValue)).Append(',')
                    .Append(s.MinStep.ToString(CultureInfo.InvariantCulture)).Append(',').Append(SqlKeys.Number(command, s.MinValue)).Append(',')
                    .Append(s.MaxStep.ToString(CultureInfo.InvariantCulture)).Append(',').Append(SqlKeys.Number(command, s.MaxValue)).Append(')');
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
