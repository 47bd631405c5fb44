using System.Collections.Concurrent;
using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>
/// Experiments, runs, params, tags and metric series: what MLflow's tracking server keeps. Params and tags
/// live on the run; metric points go to their own table with insert-or-ignore on the dedupe key, and every
/// metric/param/tag is mirrored into <see cref="RunSearchValue"/> rows for indexed search.
/// </summary>
public sealed class TrackingStore(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const string DefaultExperimentName = "Default";

    // One writer per run at a time, so the latest-metric summary is never raced by two batches.
    private static readonly SemaphoreSlim[] RunGates = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];
    private static readonly ConcurrentDictionary<string, byte> KnownExperimentNames = new(StringComparer.Ordinal);

    public static bool CanWrite(Actor actor) => actor.IsIn(Roles.DataScientist) || actor.IsIn(Roles.Admin);

    public async Task<Experiment> CreateExperimentAsync(string? name, IReadOnlyDictionary<string, string>? tags, Actor actor, CancellationToken cancellationToken)
    {
        RequireWriter(actor);
        var experiment = Experiment.Create(name, actor, time);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            experiment.SetTag(key, value, time);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.Experiments.AnyAsync(e => e.Name == experiment.Name, cancellationToken))
        {
            throw new TrackingException(TrackingError.ResourceAlreadyExists, $"Experiment(name={experiment.Name}) already exists.");
        }

        db.Experiments.Add(experiment);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            throw new TrackingException(TrackingError.ResourceAlreadyExists, $"Experiment(name={experiment.Name}) already exists.");
        }

        return experiment;
    }

    /// <summary>The experiment named <paramref name="name"/>, created on first use (jobs and samples name theirs).</summary>
    public async Task<Experiment> GetOrCreateExperimentAsync(string name, Actor actor, CancellationToken cancellationToken)
    {
        try
        {
            return await GetExperimentByNameAsync(name, cancellationToken);
        }
        catch (TrackingException e) when (e.Error == TrackingError.ResourceDoesNotExist)
        {
            try
            {
                return await CreateExperimentAsync(name, null, actor, cancellationToken);
            }
            catch (TrackingException again) when (again.Error == TrackingError.ResourceAlreadyExists)
            {
                return await GetExperimentByNameAsync(name, cancellationToken);
            }
        }
    }

    public async Task<Experiment> GetExperimentAsync(string? id, CancellationToken cancellationToken)
    {
        var experimentId = ParseExperimentId(id);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Id == experimentId, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"No Experiment with id={id} exists");
    }

    public async Task<Experiment> GetExperimentByNameAsync(string? name, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'experiment_name'.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Name == name, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Could not find experiment with name '{name}'");
    }

    /// <summary>Experiments by name (substring, case-insensitive), newest first, with run counts.</summary>
    public async Task<Page<ExperimentSummary>> SearchExperimentsAsync(string? nameContains, int skip, int take, bool includeDeleted, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.Experiments.AsNoTracking().Where(e => includeDeleted || !e.Deleted);
        if (!string.IsNullOrWhiteSpace(nameContains))
        {
            var pattern = $"%{EscapeLike(nameContains.Trim().ToLowerInvariant())}%";
            query = query.Where(e => EF.Functions.Like(e.Name.ToLower(), pattern, "\\"));
        }

        var total = await query.CountAsync(cancellationToken);
        var page = await query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Id).Skip(skip).Take(take)
            .Select(e => new ExperimentSummary(e, db.Runs.Count(r => r.ExperimentId == e.Id), db.Runs.Max(r => (DateTime?)r.StartTime)))
            .ToListAsync(cancellationToken);
        return new Page<ExperimentSummary>(page, total);
    }

    public async Task<Run> CreateRunAsync(string? experimentId, string? runName, DateTime? startTime,
        IReadOnlyDictionary<string, string>? tags, Actor actor, CancellationToken cancellationToken)
    {
        RequireWriter(actor);
        var id = ParseExperimentId(experimentId);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var experiment = await db.Experiments.AsNoTracking().FirstOrDefaultAsync(e => e.Id == id, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"No Experiment with id={experimentId} exists");
        if (experiment.Deleted)
        {
            throw new TrackingException(TrackingError.InvalidState, $"The experiment {experimentId} must be in the 'active' state. Current state is deleted.");
        }

        // MLflow clients send the run name as a tag too; either names the run.
        if (string.IsNullOrWhiteSpace(runName) && tags is not null && tags.TryGetValue("mlflow.runName", out var tagged))
        {
            runName = tagged;
        }

        var run = Run.Start(id, runName, actor, startTime, time);
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            run.SetTag(key, value);
        }

        run.SetTag("mlflow.runName", run.Name);
        run.SetTag("mlflow.user", actor.Name);
        db.Runs.Add(run);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await UpsertSearchValuesAsync(db, run, run.Params.Keys, run.Tags.Keys, run.Metrics.Keys, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return run;
    }

    public async Task<Run> GetRunAsync(string? runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await FindRunAsync(db, runId, tracking: false, cancellationToken);
    }

    public async Task<Run?> FindRunAsync(string runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken);
    }

    public async Task<IReadOnlyList<Run>> GetRunsAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync(cancellationToken);
        var order = runIds.Select((id, i) => (id, i)).ToDictionary(x => x.id, x => x.i, StringComparer.Ordinal);
        return [.. runs.OrderBy(r => order[r.Id])];
    }

    public Task<Run> UpdateRunAsync(string? runId, RunStatus? status, DateTime? endTime, string? runName, Actor actor, CancellationToken cancellationToken) =>
        WithRunAsync(runId, actor, (run, _) =>
        {
            run.Update(status, endTime, runName, time);
            if (runName is not null)
            {
                run.SetTag("mlflow.runName", run.Name);
                return ([], ["mlflow.runName"], []);
            }

            return ([], [], []);
        }, cancellationToken);

    /// <summary>
    /// MLflow's log-batch: validates everything first (nothing is written if any item is bad), then stores
    /// params, tags and points in one transaction. Points already stored are skipped, so retries are safe.
    /// </summary>
    public async Task<Run> LogBatchAsync(string? runId, IReadOnlyList<MetricPoint> metrics,
        IReadOnlyList<KeyValuePair<string?, string?>> parameters, IReadOnlyList<KeyValuePair<string?, string?>> tags,
        Actor actor, CancellationToken cancellationToken)
    {
        CheckBatchLimits(metrics.Count, parameters.Count, tags.Count);
        return await WithRunAsync(runId, actor, async (run, db) =>
        {
            // Duplicate param keys in one batch with different values are refused, as MLflow does.
            foreach (var group in parameters.GroupBy(p => p.Key, StringComparer.Ordinal).Where(g => g.Select(p => p.Value).Distinct(StringComparer.Ordinal).Count() > 1))
            {
                throw TrackingException.Invalid($"Duplicate parameter keys have been submitted: ['{group.Key}']. Please ensure the request contains only one param value per param key.");
            }

            foreach (var (key, value) in parameters)
            {
                run.LogParam(key, value);
            }

            foreach (var (key, value) in tags)
            {
                run.SetTag(key, value);
            }

            if (metrics.Count > 0)
            {
                run.Observe(metrics, time);
                await InsertPointsAsync(db, run.Id, metrics, cancellationToken);
            }
            else
            {
                run.Heartbeat(time);
            }

            return (parameters.Select(p => p.Key!).ToList(), tags.Select(t => t.Key!).ToList(), metrics.Select(m => m.Key).Distinct(StringComparer.Ordinal).ToList());
        }, cancellationToken);
    }

    /// <summary>
    /// Stores finished runs made elsewhere (history imported from another tracking server, generated demo
    /// data, benchmarks) in one transaction: runs, their search rows, metric points and rollups.
    /// </summary>
    public async Task ImportRunsAsync(IReadOnlyList<(Run Run, IReadOnlyList<MetricPoint> History)> runs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runs);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Database.OpenConnectionAsync(cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        foreach (var (run, _) in runs)
        {
            run.ClearDomainEvents(); // history, not news: nothing live to tell
        }

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
            foreach (var (kind, key, number, text) in SearchRows(run, run.Params.Keys, run.Tags.Keys, run.Metrics.Keys))
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

        await transaction.CommitAsync(cancellationToken);
    }

    public Task<Run> DeleteTagAsync(string? runId, string? key, Actor actor, CancellationToken cancellationToken) =>
        WithRunAsync(runId, actor, async (run, db) =>
        {
            run.DeleteTag(key);
            await db.RunSearchValues.Where(v => v.RunId == run.Id && v.Kind == RunValueKind.Tag && v.Key == key).ExecuteDeleteAsync(cancellationToken);
            return (Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        }, cancellationToken);

    /// <summary>Records dataset inputs of a run (the job runner does this when it materialises them).</summary>
    public Task<Run> AddInputsAsync(string runId, IEnumerable<string> datasetRefs, Actor actor, CancellationToken cancellationToken) =>
        WithRunAsync(runId, actor, (run, _) =>
        {
            foreach (var reference in datasetRefs)
            {
                run.AddInput(reference);
            }

            return (Array.Empty<string>(), Array.Empty<string>(), Array.Empty<string>());
        }, cancellationToken, requireWriter: false);

    /// <summary>Marks a run ended by the system (its job finished, or it was lost).</summary>
    public Task<Run> EndRunAsync(string runId, RunStatus status, string? reason, CancellationToken cancellationToken) =>
        WithRunAsync(runId, Actor.System, (run, _) =>
        {
            if (run.Status.IsTerminal())
            {
                return ([], [], []);
            }

            if (reason is not null && status == RunStatus.Failed)
            {
                run.MarkLost(reason, time);
                return ([], [TrackingRules.FailureTag], []);
            }

            run.Update(status, null, null, time);
            return ([], [], []);
        }, cancellationToken, requireWriter: false);

    /// <summary>Every point of one metric of a run, in step order (paged as MLflow's get-history).</summary>
    public async Task<(IReadOnlyList<MetricPoint> Points, string? NextPageToken)> GetMetricHistoryAsync(
        string? runId, string? key, int maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'metric_key'.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await FindRunAsync(db, runId, tracking: false, cancellationToken);
        var offset = PageToken.Decode(pageToken);
        var rows = await db.MetricPoints.AsNoTracking()
            .Where(p => p.RunId == run.Id && p.Key == key)
            .OrderBy(p => p.Step).ThenBy(p => p.Timestamp).ThenBy(p => p.Value)
            .Skip(offset).Take(maxResults + 1)
            .Select(p => new { p.Step, p.Timestamp, p.Value, p.IsNan })
            .ToListAsync(cancellationToken);
        var points = rows.Take(maxResults).Select(p => new MetricPoint(key, p.IsNan ? double.NaN : p.Value, p.Timestamp, p.Step)).ToList();
        return (points, rows.Count > maxResults ? PageToken.Encode(offset + maxResults) : null);
    }

    public static void CheckBatchLimits(int metrics, int parameters, int tags)
    {
        if (metrics > TrackingRules.MaxMetricsPerBatch)
        {
            throw TrackingException.Invalid($"A batch logging request can contain at most {TrackingRules.MaxMetricsPerBatch} metrics. Got {metrics} metrics. Please split up metrics across multiple requests and try again.");
        }

        if (parameters > TrackingRules.MaxParamsOrTagsPerBatch)
        {
            throw TrackingException.Invalid($"A batch logging request can contain at most {TrackingRules.MaxParamsOrTagsPerBatch} params. Got {parameters} params. Please split up params across multiple requests and try again.");
        }

        if (tags > TrackingRules.MaxParamsOrTagsPerBatch)
        {
            throw TrackingException.Invalid($"A batch logging request can contain at most {TrackingRules.MaxParamsOrTagsPerBatch} tags. Got {tags} tags. Please split up tags across multiple requests and try again.");
        }

        if (metrics + parameters + tags > TrackingRules.MaxEntitiesPerBatch)
        {
            throw TrackingException.Invalid($"A batch logging request can contain at most {TrackingRules.MaxEntitiesPerBatch} metrics, params and tags in total. Got {metrics + parameters + tags}.");
        }
    }

    public static long ParseExperimentId(string? id) =>
        long.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : string.IsNullOrEmpty(id)
                ? throw TrackingException.Invalid("Missing value for required parameter 'experiment_id'.")
                : throw new TrackingException(TrackingError.ResourceDoesNotExist, $"No Experiment with id={id} exists");

    private async Task<Run> WithRunAsync(string? runId, Actor actor,
        Func<Run, PortalDbContext, (IReadOnlyCollection<string> Params, IReadOnlyCollection<string> Tags, IReadOnlyCollection<string> Metrics)> change,
        CancellationToken cancellationToken, bool requireWriter = true) =>
        await WithRunAsync(runId, actor, (run, db) => Task.FromResult(change(run, db)), cancellationToken, requireWriter);

    private async Task<Run> WithRunAsync(string? runId, Actor actor,
        Func<Run, PortalDbContext, Task<(IReadOnlyCollection<string> Params, IReadOnlyCollection<string> Tags, IReadOnlyCollection<string> Metrics)>> change,
        CancellationToken cancellationToken, bool requireWriter = true)
    {
        if (requireWriter)
        {
            RequireWriter(actor);
        }

        if (string.IsNullOrEmpty(runId))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'run_id'.");
        }

        var gate = RunGates[(uint)StringComparer.Ordinal.GetHashCode(runId) % RunGates.Length];
        await gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var run = await FindRunAsync(db, runId, tracking: true, cancellationToken);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            var (parameters, tags, metrics) = await change(run, db);
            await db.SaveChangesAsync(cancellationToken);
            await UpsertSearchValuesAsync(db, run, parameters, tags, metrics, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return run;
        }
        finally
        {
            gate.Release();
        }
    }

    private static async Task<Run> FindRunAsync(PortalDbContext db, string? runId, bool tracking, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(runId))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'run_id'.");
        }

        var query = tracking ? db.Runs : db.Runs.AsNoTracking();
        return await query.FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run with id={runId} not found");
    }

    private static void RequireWriter(Actor actor)
    {
        if (!CanWrite(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can create or change experiments and runs.");
        }
    }

    private const string RunInsert = """
        INSERT INTO "Runs" ("Id", "ExperimentId", "Name", "UserId", "Status", "StartTime", "EndTime", "HeartbeatAt", "Params", "Tags", "Metrics", "Inputs")
        VALUES (@id, @e, @name, @user, @status, @start, @end, @beat, @p, @t, @m, @i)
        """;

    private const string PointColumns = "INSERT INTO \"MetricPoints\" (\"RunId\", \"Key\", \"Step\", \"Timestamp\", \"Value\", \"IsNan\") VALUES ";
    private const string PointInsert = PointColumns + "(@r, @k, @s, @t, @v, @n) ON CONFLICT DO NOTHING";
    private const string SearchValueColumns = "INSERT INTO \"RunSearchValues\" (\"RunId\", \"ExperimentId\", \"Kind\", \"Key\", \"Number\", \"Text\") VALUES ";
    private const string SearchValueUpsert = " ON CONFLICT (\"RunId\", \"Kind\", \"Key\") DO UPDATE SET \"Number\" = excluded.\"Number\", \"Text\" = excluded.\"Text\"";
    private const string SearchValueInsert = SearchValueColumns + "(@r, @e, @c, @k, @n, @x)" + SearchValueUpsert;

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
    private static async Task InsertPointsAsync(PortalDbContext db, string runId, IReadOnlyList<MetricPoint> points, CancellationToken cancellationToken)
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

    private static async Task UpsertSearchValuesAsync(PortalDbContext db, Run run,
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

    private static List<(RunValueKind Kind, string Key, double? Number, string? Text)> SearchRows(Run run,
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

    internal static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

public sealed record ExperimentSummary(Experiment Experiment, int Runs, DateTime? LastRunAt);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total);

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
            TrackingStore.AddParameter(command, name, key);
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
        TrackingStore.AddParameter(command, name, value);
        return name;
    }
}

/// <summary>MLflow's opaque page tokens; ours carry an offset.</summary>
public static class PageToken
{
    public static string Encode(int offset) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"o:{offset.ToString(CultureInfo.InvariantCulture)}"));

    public static int Decode(string? token)
    {
        if (string.IsNullOrEmpty(token))
        {
            return 0;
        }

        try
        {
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(token));
            if (text.StartsWith("o:", StringComparison.Ordinal) && int.TryParse(text[2..], NumberStyles.None, CultureInfo.InvariantCulture, out var offset))
            {
                return offset;
            }
        }
        catch (FormatException)
        {
        }

        throw TrackingException.Invalid($"Invalid page token '{token}'.");
    }
}
