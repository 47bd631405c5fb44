using System.Globalization;
using Microsoft.EntityFrameworkCore;
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
public sealed partial class TrackingStore(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    public const string DefaultExperimentName = "Default";

    // One writer per run at a time, so the latest-metric summary is never raced by two batches.
    private static readonly SemaphoreSlim[] RunGates = [.. Enumerable.Range(0, 64).Select(_ => new SemaphoreSlim(1, 1))];

    public static bool CanWrite(Actor actor) => actor?.BuildsModels == true;

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
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            // Only a real duplicate is a conflict; a busy or unreachable database goes up as what it is.
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
            .Select(e => new ExperimentSummary(e, db.Runs.Count(r => r.ExperimentId == e.Id), db.Runs.Where(r => r.ExperimentId == e.Id).Max(r => (DateTime?)r.StartTime)))
            .ToListAsync(cancellationToken);
        return new Page<ExperimentSummary>(page, total);
    }

    public async Task<Run> CreateRunAsync(string? experimentId, string? runName, DateTime? startTime,
        IReadOnlyDictionary<string, string>? tags, Actor actor, CancellationToken cancellationToken)
    {
        RequireWriter(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await NewRunAsync(db, experimentId, runName, startTime, tags, actor, cancellationToken);
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await AddRunAsync(db, run, cancellationToken);
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
                await TrackingSql.InsertPointsAsync(db, run.Id, metrics, cancellationToken);
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

        await TrackingSql.ImportAsync(db, runs, cancellationToken);
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

    /// <summary>Every point of one metric of a run, in step order: all of them, or pages of <paramref name="maxResults"/>.</summary>
    public async Task<(IReadOnlyList<MetricPoint> Points, string? NextPageToken)> GetMetricHistoryAsync(
        string? runId, string? key, int? maxResults, string? pageToken, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(key))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'metric_key'.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await FindRunAsync(db, runId, tracking: false, cancellationToken);
        var offset = PageToken.Decode(pageToken);
        var ordered = db.MetricPoints.AsNoTracking()
            .Where(p => p.RunId == run.Id && p.Key == key)
            .OrderBy(p => p.Step).ThenBy(p => p.Timestamp).ThenBy(p => p.Value)
            .Skip(offset);
        var rows = await (maxResults is { } take ? ordered.Take(take + 1) : ordered)
            .Select(p => new { p.Step, p.Timestamp, p.Value, p.IsNan })
            .ToListAsync(cancellationToken);
        var page = maxResults ?? rows.Count;
        var points = rows.Take(page).Select(p => new MetricPoint(key, p.IsNan ? double.NaN : p.Value, p.Timestamp, p.Step)).ToList();
        return (points, rows.Count > page ? PageToken.Encode(offset + page) : null);
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
            await TrackingSql.UpsertSearchValuesAsync(db, run, parameters, tags, metrics, cancellationToken);
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

    internal static string EscapeLike(string text) =>
        text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal);
}

public sealed record ExperimentSummary(Experiment Experiment, int Runs, DateTime? LastRunAt);

public sealed record Page<T>(IReadOnlyList<T> Items, int Total);
