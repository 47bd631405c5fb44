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
        foreach (var condition in conditions)
        {
            runs = Apply(db, runs, condition);
        }

        var total = query.CountTotal ? await runs.CountAsync(cancellationToken) : -1;
        List<string> ids;
        if (order.Field is RunField.Metric or RunField.Param)
        {
            ids = await PageByValueAsync(db, runs, experiments, order, query.Skip, query.Take, cancellationToken);
        }
        else
        {
            ids = await OrderByAttribute(runs, order).Skip(query.Skip).Take(query.Take).Select(r => r.Id).ToListAsync(cancellationToken);
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
        RunOrder order, int skip, int take, CancellationToken cancellationToken)
    {
        var kind = order.Field == RunField.Metric ? RunValueKind.Metric : RunValueKind.Param;
        var key = order.Key;
        var values = db.RunSearchValues.AsNoTracking()
            .Where(v => experiments.Contains(v.ExperimentId) && v.Kind == kind && v.Key == key)
            .Where(v => runs.Any(r => r.Id == v.RunId));
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

        var kind = c.Field switch
        {
            RunField.Metric => RunValueKind.Metric,
            RunField.Param => RunValueKind.Param,
            _ => RunValueKind.Tag,
        };
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
