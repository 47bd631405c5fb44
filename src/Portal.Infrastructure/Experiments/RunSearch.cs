using System.Linq.Expressions;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Experiments;

/// <summary>Keys that runs of an experiment have, by kind.</summary>
public sealed record RunColumns(IReadOnlyList<string> Metrics, IReadOnlyList<string> Params, IReadOnlyList<string> Tags);

/// <summary>A search over runs: MLflow's filter and order syntax, paged on the server.</summary>
public sealed record RunQuery(IReadOnlyList<long> ExperimentIds, string? Filter, string? OrderBy, int Skip, int Take, bool CountTotal = false);

/// <summary>
/// Finds runs by MLflow's filter language over any metric, param, tag or attribute. Ordering by a metric or
/// param walks the <see cref="RunSearchValue"/> index in order and stops at the page, so the cost of a page
/// does not grow with the number of runs in the experiment.
/// </summary>
public sealed class RunSearch(IDbContextFactory<PortalDbContext> dbFactory)
{
    /// <summary>The most runs one search returns (CSV export); MLflow's own API caps max_results at 50,000.</summary>
    public const int MaxResults = 100_000;

    public async Task<Page<Run>> SearchAsync(RunQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        if (query.Take is < 1 or > MaxResults)
        {
            throw TrackingException.Invalid($"Invalid value {query.Take} for parameter 'max_results' supplied. It must be between 1 and {MaxResults}.");
        }

        var conditions = RunFilter.Parse(query.Filter);
        var order = RunFilter.ParseOrder(query.OrderBy);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var experiments = query.ExperimentIds;
        var runs = db.Runs.AsNoTracking().Where(r => experiments.Contains(r.ExperimentId));

        // A selective filter drives: its index range yields a few thousand candidate runs, which are checked
        // and sorted directly. Otherwise matches are dense, and walking the order's index finds a page fast.
        var (driver, driving, candidates) = await CandidatesAsync(db, experiments, conditions, cancellationToken);
        if (candidates is not null)
        {
            // Only by id: the candidates are of these experiments already, and an experiment condition here
            // would lead SQLite to scan the experiment's runs instead of looking the candidates up.
            runs = db.Runs.AsNoTracking().Where(r => candidates.Contains(r.Id));
        }

        // The candidates met the driving condition already; the others are checked on them.
        foreach (var condition in conditions.Where(c => candidates is null || !ReferenceEquals(c, driving)))
        {
            runs = Apply(db, runs, condition);
        }

        List<string> ids;
        int total;
        if (candidates is not null && order.Field is RunField.Metric or RunField.Param)
        {
            (ids, total) = await SortInMemoryAsync(db, runs, order, query.Skip, query.Take, cancellationToken);
        }
        else
        {
            total = !query.CountTotal ? -1
                : driver is null || candidates is not null ? await runs.CountAsync(cancellationToken)
                // One metric/param/tag condition: its index range is the answer. More: probe the others from the most selective one.
                : conditions.Count == 1 ? await driver.CountAsync(cancellationToken)
                : await driver.Where(v => runs.Any(r => r.Id == v.RunId)).CountAsync(cancellationToken);
            ids = order.Field is RunField.Metric or RunField.Param
                ? await PageByValueAsync(db, runs, experiments, order, query.Skip, query.Take, filtered: conditions.Count > 0, cancellationToken)
                : await OrderByAttribute(runs, order).Skip(query.Skip).Take(query.Take).Select(r => r.Id).ToListAsync(cancellationToken);
        }

        var loaded = await db.Runs.AsNoTracking().Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        return new Page<Run>([.. ids.Where(loaded.ContainsKey).Select(id => loaded[id])], total);
    }

    /// <summary>
    /// The metric, param and tag keys people can show as columns: those of the latest runs (reading every run's
    /// keys would cost as much as the experiment is large; new keys appear with new runs).
    /// </summary>
    public async Task<RunColumns> ColumnsAsync(IReadOnlyList<long> experimentIds, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var latest = await db.Runs.AsNoTracking().Where(r => experimentIds.Contains(r.ExperimentId))
            .OrderByDescending(r => r.StartTime).Take(500)
            .Select(r => new { r.Metrics, r.Params, r.Tags }).ToListAsync(cancellationToken);
        static List<string> Keys(IEnumerable<IEnumerable<string>> keys) => [.. keys.SelectMany(k => k).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        return new RunColumns(
            Keys(latest.Select(r => r.Metrics.Keys)),
            Keys(latest.Select(r => r.Params.Keys)),
            Keys(latest.Select(r => r.Tags.Keys.Where(k => !k.StartsWith("mlflow.", StringComparison.Ordinal)))));
    }

    /// <summary>
    /// Runs that have the value come first, in its order (NaN and missing last, as MLflow sorts them); the
    /// page is assembled from the two parts without sorting the whole experiment.
    /// </summary>
    private static async Task<List<string>> PageByValueAsync(PortalDbContext db, IQueryable<Run> runs, IReadOnlyList<long> experiments,
        RunOrder order, int skip, int take, bool filtered, CancellationToken cancellationToken)
    {
        var kind = order.Field == RunField.Metric ? RunValueKind.Metric : RunValueKind.Param;
        var key = order.Key;
        var values = db.RunSearchValues.AsNoTracking()
            .Where(v => experiments.Contains(v.ExperimentId) && v.Kind == kind && v.Key == key);
        if (filtered)
        {
            values = values.Where(v => runs.Any(r => r.Id == v.RunId));
        }

        var present = kind == RunValueKind.Metric ? values.Where(v => v.Number != null) : values;
        IOrderedQueryable<RunSearchValue> ordered = (kind, order.Descending) switch
        {
            (RunValueKind.Metric, true) => present.OrderByDescending(v => v.Number).ThenByDescending(v => v.RunId),
            (RunValueKind.Metric, false) => present.OrderBy(v => v.Number).ThenBy(v => v.RunId),
            (_, true) => present.OrderByDescending(v => v.Text).ThenByDescending(v => v.RunId),
            _ => present.OrderBy(v => v.Text).ThenBy(v => v.RunId),
        };
        var ids = await ordered.Skip(skip).Take(take).Select(v => v.RunId).ToListAsync(cancellationToken);
        if (ids.Count == take)
        {
            return ids;
        }

        // The page runs past the runs with a value: fill it with the others, newest first.
        var withValue = await present.CountAsync(cancellationToken);
        var rest = runs.Where(r => !present.Any(v => v.RunId == r.Id))
            .OrderByDescending(r => r.StartTime).ThenByDescending(r => r.Id);
        ids.AddRange(await rest.Skip(Math.Max(0, skip - withValue)).Take(take - ids.Count).Select(r => r.Id).ToListAsync(cancellationToken));
        return ids;
    }

    /// <summary>Above this many matches a filter is not selective enough to drive the search.</summary>
    internal const int CandidateLimit = 5_000;

    /// <summary>
    /// The runs matching the most selective metric/param/tag condition, when it matches at most
    /// <see cref="CandidateLimit"/> runs (each condition's count stops there, so estimating is cheap); else null.
    /// </summary>
    private static async Task<(IQueryable<RunSearchValue>? Driver, RunCondition? Driving, List<string>? Candidates)> CandidatesAsync(
        PortalDbContext db, IReadOnlyList<long> experiments, IReadOnlyList<RunCondition> conditions, CancellationToken cancellationToken)
    {
        IQueryable<RunSearchValue>? best = null;
        RunCondition? driving = null;
        var bestCount = int.MaxValue;
        // Equalities are usually the most selective: try them first and stop at the first small enough.
        foreach (var c in conditions.Where(c => c.Field != RunField.Attribute).OrderBy(c => c.Operator is FilterOperator.Equal ? 0 : 1))
        {
            var kind = KindOf(c.Field);
            var key = c.Key;
            var matching = db.RunSearchValues.AsNoTracking()
                .Where(v => experiments.Contains(v.ExperimentId) && v.Kind == kind && v.Key == key).Where(ValuePredicate(c));
            var count = await matching.Take(CandidateLimit + 1).CountAsync(cancellationToken);
            if (count < bestCount)
            {
                (best, driving, bestCount) = (matching, c, count);
            }

            if (bestCount <= CandidateLimit)
            {
                break;
            }
        }

        return (best, driving, best is not null && bestCount <= CandidateLimit ? await best.Select(v => v.RunId).ToListAsync(cancellationToken) : null);
    }

    /// <summary>Few runs: fetch their order values and sort here (values first, NaN and missing last, newest first).</summary>
    private static async Task<(List<string> Ids, int Total)> SortInMemoryAsync(PortalDbContext db, IQueryable<Run> runs, RunOrder order, int skip, int take, CancellationToken cancellationToken)
    {
        var kind = KindOf(order.Field);
        var key = order.Key;
        var rows = await (from r in runs
                          join v in db.RunSearchValues.Where(v => v.Kind == kind && v.Key == key) on r.Id equals v.RunId into values
                          from v in values.DefaultIfEmpty()
                          select new { r.Id, r.StartTime, Number = (double?)v!.Number, Text = v!.Text })
            .ToListAsync(cancellationToken);
        var present = rows.Where(r => kind == RunValueKind.Metric ? r.Number is not null : r.Text is not null);
        var ordered = (kind, order.Descending) switch
        {
            (RunValueKind.Metric, true) => present.OrderByDescending(r => r.Number).ThenByDescending(r => r.Id, StringComparer.Ordinal),
            (RunValueKind.Metric, false) => present.OrderBy(r => r.Number).ThenBy(r => r.Id, StringComparer.Ordinal),
            (_, true) => present.OrderByDescending(r => r.Text, StringComparer.Ordinal).ThenByDescending(r => r.Id, StringComparer.Ordinal),
            _ => present.OrderBy(r => r.Text, StringComparer.Ordinal).ThenBy(r => r.Id, StringComparer.Ordinal),
        };
        var missing = rows.Except(present).OrderByDescending(r => r.StartTime).ThenByDescending(r => r.Id, StringComparer.Ordinal);
        return ([.. ordered.Concat(missing).Skip(skip).Take(take).Select(r => r.Id)], rows.Count);
    }

    private static RunValueKind KindOf(RunField field) => field switch
    {
        RunField.Metric => RunValueKind.Metric,
        RunField.Param => RunValueKind.Param,
        _ => RunValueKind.Tag,
    };

    private static IQueryable<Run> OrderByAttribute(IQueryable<Run> runs, RunOrder order) => (order.Key, order.Descending) switch
    {
        ("run_name", false) => runs.OrderBy(r => r.Name).ThenBy(r => r.Id),
        ("run_name", true) => runs.OrderByDescending(r => r.Name).ThenByDescending(r => r.Id),
        ("status", false) => runs.OrderBy(r => r.Status).ThenByDescending(r => r.StartTime),
        ("status", true) => runs.OrderByDescending(r => r.Status).ThenByDescending(r => r.StartTime),
        ("end_time", false) => runs.OrderBy(r => r.EndTime == null).ThenBy(r => r.EndTime).ThenBy(r => r.Id),
        ("end_time", true) => runs.OrderBy(r => r.EndTime == null).ThenByDescending(r => r.EndTime).ThenByDescending(r => r.Id),
        ("user_id", false) => runs.OrderBy(r => r.UserId).ThenByDescending(r => r.StartTime),
        ("user_id", true) => runs.OrderByDescending(r => r.UserId).ThenByDescending(r => r.StartTime),
        ("run_id", false) => runs.OrderBy(r => r.Id),
        ("run_id", true) => runs.OrderByDescending(r => r.Id),
        (_, false) => runs.OrderBy(r => r.StartTime).ThenBy(r => r.Id),
        _ => runs.OrderByDescending(r => r.StartTime).ThenByDescending(r => r.Id),
    };

    private static IQueryable<Run> Apply(PortalDbContext db, IQueryable<Run> runs, RunCondition c)
    {
        if (c.Field == RunField.Attribute)
        {
            return ApplyAttribute(runs, c);
        }

        var kind = KindOf(c.Field);
        var key = c.Key;
        var matching = db.RunSearchValues.Where(v => v.Kind == kind && v.Key == key).Where(ValuePredicate(c));
        // != on params and tags means "has the key with another value", as in MLflow.
        return runs.Where(r => matching.Any(v => v.RunId == r.Id));
    }

    private static Expression<Func<RunSearchValue, bool>> ValuePredicate(RunCondition c)
    {
        if (c.Field == RunField.Metric)
        {
            var x = c.Number!.Value;
            return c.Operator switch
            {
                FilterOperator.Equal => v => v.Number == x,
                FilterOperator.NotEqual => v => v.Number != x,
                FilterOperator.Greater => v => v.Number > x,
                FilterOperator.GreaterOrEqual => v => v.Number >= x,
                FilterOperator.Less => v => v.Number < x,
                _ => v => v.Number <= x,
            };
        }

        var text = c.Text!;
        var lower = text.ToLowerInvariant();
        return c.Operator switch
        {
            FilterOperator.Equal => v => v.Text == text,
            FilterOperator.NotEqual => v => v.Text != text,
            // LIKE follows the database: case-sensitive on PostgreSQL as in MLflow, ASCII case-insensitive on SQLite.
            FilterOperator.Like => v => EF.Functions.Like(v.Text!, text),
            _ => v => EF.Functions.Like(v.Text!.ToLower(), lower),
        };
    }

    private static IQueryable<Run> ApplyAttribute(IQueryable<Run> runs, RunCondition c)
    {
        switch (c.Key)
        {
            case "start_time" or "end_time":
                var at = DateTime.UnixEpoch.AddMilliseconds(c.Number!.Value);
                var start = c.Key == "start_time";
                return c.Operator switch
                {
                    FilterOperator.Equal => runs.Where(r => (start ? r.StartTime : r.EndTime) == at),
                    FilterOperator.NotEqual => runs.Where(r => (start ? r.StartTime : r.EndTime) != at),
                    FilterOperator.Greater => runs.Where(r => (start ? r.StartTime : r.EndTime) > at),
                    FilterOperator.GreaterOrEqual => runs.Where(r => (start ? r.StartTime : r.EndTime) >= at),
                    FilterOperator.Less => runs.Where(r => (start ? r.StartTime : r.EndTime) < at),
                    _ => runs.Where(r => (start ? r.StartTime : r.EndTime) <= at),
                };

            case "status":
                if (!RunStatuses.TryParse(c.Text, out var status))
                {
                    throw TrackingException.Invalid($"Invalid filter: '{c.Text}' is not a run status; use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.");
                }

                return c.Operator == FilterOperator.NotEqual ? runs.Where(r => r.Status != status) : runs.Where(r => r.Status == status);

            case "run_id":
                var ids = c.List.Count > 0 ? c.List : [c.Text!];
                return c.Operator is FilterOperator.NotIn or FilterOperator.NotEqual ? runs.Where(r => !ids.Contains(r.Id)) : runs.Where(r => ids.Contains(r.Id));

            default:
                var text = c.Text!;
                var lower = text.ToLowerInvariant();
                Expression<Func<Run, string>> field = c.Key == "user_id" ? r => r.UserId : r => r.Name;
                return c.Operator switch
                {
                    FilterOperator.Equal => runs.Where(Compose(field, s => s == text)),
                    FilterOperator.NotEqual => runs.Where(Compose(field, s => s != text)),
                    FilterOperator.Like => runs.Where(Compose(field, s => EF.Functions.Like(s, text))),
                    _ => runs.Where(Compose(field, s => EF.Functions.Like(s.ToLower(), lower))),
                };
        }
    }

    private static Expression<Func<Run, bool>> Compose(Expression<Func<Run, string>> field, Expression<Func<string, bool>> test) =>
        Expression.Lambda<Func<Run, bool>>(
            new ParameterReplacer(test.Parameters[0], field.Body).Visit(test.Body), field.Parameters);

    private sealed class ParameterReplacer(ParameterExpression parameter, Expression replacement) : ExpressionVisitor
    {
        protected override Expression VisitParameter(ParameterExpression node) => node == parameter ? replacement : base.VisitParameter(node);
    }
}
