using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>
/// The tracking store's bulk SQL, the same on SQLite and PostgreSQL: metric points inserted or ignored on
/// their dedupe key, search rows upserted, and prepared single-row statements for imports.
/// </summary>
internal static class TrackingSql
{
    internal const string RunInsert = """
        INSERT INTO "Runs" ("Id", "ExperimentId", "Name", "UserId", "Status", "StartTime", "EndTime", "HeartbeatAt", "Params", "Tags", "Metrics", "Inputs")
        VALUES (@id, @e, @name, @user, @status, @start, @end, @beat, @p, @t, @m, @i)
        """;

    internal const string PointColumns = "INSERT INTO \"MetricPoints\" (\"RunId\", \"Key\", \"Step\", \"Timestamp\", \"Value\", \"IsNan\") VALUES ";
    internal const string PointInsert = PointColumns + "(@r, @k, @s, @t, @v, @n) ON CONFLICT DO NOTHING";
    internal const string SearchValueColumns = "INSERT INTO \"RunSearchValues\" (\"RunId\", \"ExperimentId\", \"Kind\", \"Key\", \"Number\", \"Text\") VALUES ";
    internal const string SearchValueUpsert = " ON CONFLICT (\"RunId\", \"Kind\", \"Key\") DO UPDATE SET \"Number\" = excluded.\"Number\", \"Text\" = excluded.\"Text\"";
    internal const string SearchValueInsert = SearchValueColumns + "(@r, @e, @c, @k, @n, @x)" + SearchValueUpsert;

    /// <summary>Runs, their search rows, points and (for series long enough to chart) rollups, in the current transaction.</summary>
    internal static async Task ImportAsync(PortalDbContext db, IReadOnlyList<(Run Run, IReadOnlyList<MetricPoint> History)> runs, CancellationToken cancellationToken)
    {
        // One prepared single-row statement per table, run many times: the fastest way in for thousands of rows
        // (EF's change tracking of four JSON columns per run cost more than all the rest).
        var connection = db.Database.GetDbConnection();
        var tx = db.Database.CurrentTransaction!.GetDbTransaction();
        await using (var insert = Prepared(connection, tx, RunInsert, "id", "e", "name", "user", "status", "start", "end", "beat", "p", "t", "m", "i"))
        {
            foreach (var (run, _) in runs)
            {
                await Execute(insert, cancellationToken, run.Id, run.ExperimentId, run.Name, run.UserId, run.Status.ToString(), run.StartTime, run.EndTime, run.HeartbeatAt,
                    JsonSerializer.Serialize(run.Params, JsonColumn.Options), JsonSerializer.Serialize(run.Tags, JsonColumn.Options),
                    JsonSerializer.Serialize(run.Metrics, JsonColumn.Options), JsonSerializer.Serialize(run.Inputs, JsonColumn.Options));
            }
        }

        await using var values = Prepared(connection, tx, SearchValueInsert, "r", "e", "c", "k", "n", "x");
        await using var points = Prepared(connection, tx, PointInsert, "r", "k", "s", "t", "v", "n");
        await using var rollups = Prepared(connection, tx, MetricRollups.Upsert, "r", "k", "l", "b", "fs", "fv", "ls", "lv", "ns", "nv", "xs", "xv");
        foreach (var (run, history) in runs)
        {
            foreach (var (kind, key, number, text) in SearchRows(run, [.. run.Params.Keys], [.. run.Tags.Keys], [.. run.Metrics.Keys]))
            {
                await Execute(values, cancellationToken, run.Id, run.ExperimentId, (int)kind, key, number, text);
            }

            foreach (var p in history)
            {
                await Execute(points, cancellationToken, run.Id, p.Key, p.Step, p.Timestamp, double.IsNaN(p.Value) ? 0d : p.Value, double.IsNaN(p.Value));
            }

            // Finished runs get no more points, and series short enough to be read raw need no buckets.
            var longSeries = history.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Count() > MetricSeries.MinMaxPoints).SelectMany(g => g).ToList();
            foreach (var ((key, level, bucket), r) in MetricRollups.Summarise(longSeries))
            {
                await Execute(rollups, cancellationToken, run.Id, key, level, bucket, r.FirstStep, r.FirstValue, r.LastStep, r.LastValue, r.MinStep, r.MinValue, r.MaxStep, r.MaxValue);
            }
        }
    }

    internal static DbCommand Prepared(DbConnection connection, DbTransaction transaction, string sql, params string[] names)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in names)
        {
            AddParameter(command, "@" + name, null);
        }

        return command;
    }

    internal static Task Execute(DbCommand command, CancellationToken cancellationToken, params object?[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i] ?? DBNull.Value;
        }

        // SQLite's async calls are synchronous underneath; the plain call saves their overhead per row.
        cancellationToken.ThrowIfCancellationRequested();
        command.ExecuteNonQuery();
        return Task.CompletedTask;
    }

    /// <summary>One multi-row INSERT that skips points already stored (the dedupe key is the table's key).</summary>
    internal static async Task InsertPointsAsync(PortalDbContext db, string runId, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
    {
        // Numbers go into the SQL as literals and only the run id and keys as parameters: SQLite looks each
        // named parameter up by a linear scan, so thousands of parameters per statement cost more than the insert.
        const int RowsPerStatement = 500;
        var connection = db.Database.GetDbConnection();
        for (var start = 0; start < points.Count; start += RowsPerStatement)
        {
            var count = Math.Min(RowsPerStatement, points.Count - start);
            await using var command = connection.CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            var sql = new StringBuilder(PointColumns, 64 * count);
            var keys = new SqlKeys(command);
            AddParameter(command, "@r", runId);
            for (var i = 0; i < count; i++)
            {
                var p = points[start + i];
                sql.Append(i > 0 ? ",(@r," : "(@r,").Append(keys.Of(p.Key)).Append(',')
                    .Append(p.Step.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(p.Timestamp.ToString(CultureInfo.InvariantCulture)).Append(',')
                    .Append(SqlKeys.Number(command, double.IsNaN(p.Value) ? 0d : p.Value)).Append(',')
                    .Append(double.IsNaN(p.Value) ? "TRUE)" : "FALSE)");
            }

            sql.Append(" ON CONFLICT DO NOTHING");
            command.CommandText = sql.ToString();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await MetricRollups.MergeAsync(db, runId, points, cancellationToken);
    }

    internal static async Task UpsertSearchValuesAsync(PortalDbContext db, Run run,
        IReadOnlyCollection<string> parameters, IReadOnlyCollection<string> tags, IReadOnlyCollection<string> metrics, CancellationToken cancellationToken)
    {
        var rows = SearchRows(run, parameters, tags, metrics);
        if (rows.Count == 0)
        {
            return;
        }

        var connection = db.Database.GetDbConnection();
        await using var command = connection.CreateCommand();
        command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        var sql = new StringBuilder(SearchValueColumns);
        AddParameter(command, "@r", run.Id);
        AddParameter(command, "@e", run.ExperimentId);
        for (var i = 0; i < rows.Count; i++)
        {
            sql.Append(i > 0 ? "," : "").Append(CultureInfo.InvariantCulture, $"(@r, @e, @c{i}, @k{i}, @n{i}, @x{i})");
            AddParameter(command, $"@c{i}", (int)rows[i].Kind);
            AddParameter(command, $"@k{i}", rows[i].Key);
            AddParameter(command, $"@n{i}", rows[i].Number);
            AddParameter(command, $"@x{i}", rows[i].Text);
        }

        sql.Append(SearchValueUpsert);
        command.CommandText = sql.ToString();
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    internal static List<(RunValueKind Kind, string Key, double? Number, string? Text)> SearchRows(Run run,
        IReadOnlyCollection<string> parameters, IReadOnlyCollection<string> tags, IReadOnlyCollection<string> metrics)
    {
        var rows = new List<(RunValueKind Kind, string Key, double? Number, string? Text)>();
        foreach (var key in parameters.Distinct(StringComparer.Ordinal))
        {
            var value = run.Params[key];
            rows.Add((RunValueKind.Param, key, double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var n) && double.IsFinite(n) ? n : null, value));
        }

        rows.AddRange(tags.Distinct(StringComparer.Ordinal).Where(run.Tags.ContainsKey).Select(key => (RunValueKind.Tag, key, (double?)null, (string?)run.Tags[key])));
        rows.AddRange(metrics.Distinct(StringComparer.Ordinal).Select(key => (RunValueKind.Metric, key, double.IsNaN(run.Metrics[key].Value) ? null : (double?)run.Metrics[key].Value, (string?)null)));
        return rows;
    }

    internal static void AddParameter(DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}

/// <summary>
/// Parameters for the few strings of a bulk statement (metric keys repeat), and literals for its numbers;
/// non-finite numbers, which have no portable literal, become parameters.
/// </summary>
internal sealed class SqlKeys(DbCommand command)
{
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    public string Of(string key)
    {
        if (!_names.TryGetValue(key, out var name))
        {
            name = $"@k{_names.Count.ToString(CultureInfo.InvariantCulture)}";
            _names[key] = name;
            TrackingSql.AddParameter(command, name, key);
        }

        return name;
    }

    public static string Number(DbCommand command, double value)
    {
        if (double.IsFinite(value))
        {
            return value.ToString("R", CultureInfo.InvariantCulture);
        }

        var name = $"@x{command.Parameters.Count.ToString(CultureInfo.InvariantCulture)}";
        TrackingSql.AddParameter(command, name, value);
        return name;
    }
}
