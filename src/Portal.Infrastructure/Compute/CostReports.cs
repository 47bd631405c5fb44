using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

public enum CostGroup
{
    Team,
    User,
    Experiment,
    Model,
    Endpoint,
    Compute,

    /// <summary>Each run and deployment on its own (top consumers).</summary>
    Owner,
}

/// <summary>Narrows a report to one team or one compute kind.</summary>
public sealed record CostFilter(string? Team = null, string? Compute = null, string? Experiment = null, string? Owner = null);

/// <summary>One group's use and cost over the period. Efficiency is null when no GPU time was allocated.</summary>
public sealed record CostRow(string Key, double GpuHours, double ComputeHours, decimal Cost, double? Efficiency, decimal IdleCost, double WastedGpuHours, decimal WastedCost, double EnergyKWh);

/// <summary>Costs grouped one way over a period, in the portal's currency.</summary>
public sealed record CostReport(string Currency, DateTime From, DateTime To, IReadOnlyList<CostRow> Rows, decimal Total, double UnallocatedGpuHours, decimal UnallocatedCost, IReadOnlyList<string> Unpriced);

/// <summary>Cost per time bucket for each key (for stacked charts); buckets are hours or days.</summary>
public sealed record CostSeries(string Currency, IReadOnlyList<DateTime> Buckets, IReadOnlyList<(string Key, decimal[] Costs)> Keys);

/// <summary>A budget with this month's spending so far, its share and the month-end forecast.</summary>
public sealed record BudgetStatus(Budget Budget, decimal Spent, double Percent, BudgetForecast Forecast, IReadOnlyList<decimal> DailyCosts);

/// <summary>
/// Prices the hourly usage: GPU time at the per-GPU price of the card valid then (an instance's price shared by
/// its GPUs), CPU-only time at the instance price. Priced when asked, so a corrected card re-prices history.
/// </summary>
public sealed class CostReports(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> options, TimeProvider time)
{
    public const string NoTeam = "(no team)";
    public const string Unallocated = "(unallocated)";

    public string Currency => options.Value.Cost.Currency;

    private sealed record Bucket(string Owner, string Compute, long Start, double Gpu, double Busy, double Known, double ComputeSeconds, double Energy);

    internal sealed record Priced(string Owner, long Start, decimal Cost, double Gpu, double Busy, double Known, double ComputeSeconds, double Energy, decimal GpuCost);

    public async Task<CostReport> ReportAsync(CostGroup groupBy, DateTime from, DateTime to, CostFilter? filter, CancellationToken cancellationToken) =>
        (await PeriodAsync(from, to, filter, cancellationToken)).Report(groupBy, filter);

    /// <summary>Cost per bucket (hour for periods up to 3 days, else day), one series per key, largest first.</summary>
    public async Task<CostSeries> SeriesAsync(CostGroup groupBy, DateTime from, DateTime to, CostFilter? filter, int maxKeys, CancellationToken cancellationToken) =>
        (await PeriodAsync(from, to, filter, cancellationToken)).Series(groupBy, filter, maxKeys);

    /// <summary>
    /// A period's usage, priced once, for as many reports and series as a page shows. The team, experiment and
    /// owner of <paramref name="filter"/> are applied by each report, so a report without them can be cut too.
    /// </summary>
    public async Task<CostPeriod> PeriodAsync(DateTime from, DateTime to, CostFilter? filter, CancellationToken cancellationToken)
    {
        CheckPeriod(from, to);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var size = BucketFor(from, to);
        var (priced, unpriced, cards) = await PriceAsync(db, from, to, size, filter, cancellationToken);
        var owners = await OwnersAsync(db, priced.Select(p => p.Owner), cancellationToken);
        var waste = await WasteAsync(db, from, to, cards, cancellationToken);
        return new CostPeriod(Currency, from, to, size, priced, unpriced, owners, waste);
    }

    /// <summary>One period's priced usage: reports and series are cut from it without going back to the database.</summary>
    public sealed class CostPeriod
    {
        private readonly long _size;
        private readonly List<Priced> _priced;
        private readonly IReadOnlyList<string> _unpriced;
        private readonly Dictionary<string, (double Seconds, decimal Cost)> _waste;

        internal CostPeriod(string currency, DateTime from, DateTime to, long size, List<Priced> priced, IReadOnlyList<string> unpriced,
            Dictionary<string, UsageOwnerRow> owners, Dictionary<string, (double Seconds, decimal Cost)> waste)
        {
            (Currency, From, To, _size, _priced, _unpriced, Owners, _waste) = (currency, from, to, size, priced, unpriced, owners, waste);
        }

        public string Currency { get; }

        public DateTime From { get; }

        public DateTime To { get; }

        /// <summary>Who is behind each owner key in the period.</summary>
        public IReadOnlyDictionary<string, UsageOwnerRow> Owners { get; }

        public CostReport Report(CostGroup groupBy, CostFilter? filter)
        {
            var rows = _priced.Where(p => p.Owner.Length > 0 && Passes(Owners, p.Owner, filter))
                .GroupBy(p => KeyOf(groupBy, Owners, p.Owner), StringComparer.Ordinal)
                .Select(g =>
                {
                    var wasted = g.Select(p => p.Owner).Distinct(StringComparer.Ordinal).Select(o => _waste.TryGetValue(o, out var w) ? w : default).ToList();
                    var gpu = g.Sum(p => p.Gpu);
                    var known = g.Sum(p => p.Known);
                    var busy = g.Sum(p => p.Busy);
                    var gpuCost = g.Sum(p => p.GpuCost);
                    return new CostRow(g.Key, gpu / 3600, g.Sum(p => p.ComputeSeconds) / 3600, Round(g.Sum(p => p.Cost)), CostMath.Efficiency(busy, known),
                        Round(CostMath.IdleCost(gpuCost, busy, known)), wasted.Sum(w => w.Seconds) / 3600, Round(wasted.Sum(w => w.Cost)), g.Sum(p => p.Energy) / 3_600_000);
                })
                .OrderByDescending(r => r.Cost).ThenByDescending(r => r.GpuHours).ThenBy(r => r.Key, StringComparer.Ordinal)
                .ToList();
            var unallocated = filter?.Team is null && filter?.Experiment is null && filter?.Owner is null ? _priced.Where(p => p.Owner.Length == 0).ToList() : [];
            return new CostReport(Currency, From, To, rows, rows.Sum(r => r.Cost), unallocated.Sum(p => p.Gpu) / 3600, Round(unallocated.Sum(p => p.Cost)), _unpriced);
        }

        public CostSeries Series(CostGroup groupBy, CostFilter? filter, int maxKeys)
        {
            var first = TelemetryRollups.Ms(From) / _size * _size;
            var count = (int)Math.Max(1, (TelemetryRollups.Ms(To) - first + _size - 1) / _size);
            var buckets = Enumerable.Range(0, count).Select(i => TelemetryRollups.FromMs(first + i * _size)).ToList();
            var byKey = _priced.Where(p => p.Owner.Length > 0 && Passes(Owners, p.Owner, filter))
                .GroupBy(p => KeyOf(groupBy, Owners, p.Owner), StringComparer.Ordinal)
                .Select(g =>
                {
                    var costs = new decimal[count];
                    foreach (var p in g)
                    {
                        var at = (int)((p.Start - first) / _size);
                        if (at >= 0 && at < count)
                        {
                            costs[at] += p.Cost;
                        }
                    }

                    return (g.Key, Costs: costs.Select(Round).ToArray());
                })
                .OrderByDescending(k => k.Costs.Sum()).ToList();
            if (byKey.Count > maxKeys)
            {
                // The rest go into one "other" series so the chart stays readable and the stack still adds up.
                var other = new decimal[count];
                foreach (var (_, costs) in byKey.Skip(maxKeys - 1))
                {
                    for (var i = 0; i < count; i++)
                    {
                        other[i] += costs[i];
                    }
                }

                byKey = [.. byKey.Take(maxKeys - 1), ("(other)", other)];
            }

            return new CostSeries(Currency, buckets, byKey);
        }
    }

    /// <summary>Every budget with this month's spending, share and forecast.</summary>
    public async Task<IReadOnlyList<BudgetStatus>> BudgetsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var budgets = await db.Budgets.AsNoTracking().OrderBy(b => b.Scope).ThenBy(b => b.Key).ToListAsync(cancellationToken);
        return await StatusOfAsync(budgets, cancellationToken);
    }

    public async Task<IReadOnlyList<BudgetStatus>> StatusOfAsync(IReadOnlyList<Budget> budgets, CancellationToken cancellationToken)
    {
        if (budgets.Count == 0)
        {
            return [];
        }

        var now = time.GetUtcNow().UtcDateTime;
        var monthStart = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (priced, _, _) = await PriceAsync(db, monthStart, now.AddHours(1), 86_400_000, null, cancellationToken);
        var owners = await OwnersAsync(db, priced.Select(p => p.Owner), cancellationToken);
        var days = now.Day;
        var statuses = new List<BudgetStatus>();
        foreach (var budget in budgets)
        {
            var daily = new decimal[days];
            foreach (var p in priced.Where(p => p.Owner.Length > 0 && owners.TryGetValue(p.Owner, out var o)
                && (budget.Scope == BudgetScope.Team ? string.Equals(o.Team, budget.Key, StringComparison.OrdinalIgnoreCase) : string.Equals(o.Experiment, budget.Key, StringComparison.Ordinal))))
            {
                var day = (int)((p.Start - TelemetryRollups.Ms(monthStart)) / 86_400_000);
                if (day >= 0 && day < days)
                {
                    daily[day] += p.Cost;
                }
            }

            var spent = Round(daily.Sum());
            statuses.Add(new BudgetStatus(budget, spent, budget.PercentOf(spent), CostMath.Forecast(daily, now), daily.Select(Round).ToList()));
        }

        return statuses;
    }

    /// <summary>The owners behind the usage, with the model of runs that registered one after their usage was first seen.</summary>
    public async Task<Dictionary<string, UsageOwnerRow>> OwnersAsync(PortalDbContext db, IEnumerable<string> keys, CancellationToken cancellationToken)
    {
        var wanted = keys.Where(k => k.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        var owners = new Dictionary<string, UsageOwnerRow>(StringComparer.Ordinal);
        foreach (var chunk in wanted.Chunk(500))
        {
            foreach (var row in await db.UsageOwners.AsNoTracking().Where(o => chunk.Contains(o.Owner)).ToListAsync(cancellationToken))
            {
                owners[row.Owner] = row;
            }
        }

        var runIds = owners.Values.Where(o => o.Kind == UsageKind.Run && o.Model is null).Select(o => o.Owner[4..]).ToList();
        foreach (var chunk in runIds.Chunk(500))
        {
            var models = await db.ModelVersions.AsNoTracking().Where(v => chunk.Contains(v.SourceRunId)).Select(v => new { v.SourceRunId, v.ModelName }).ToListAsync(cancellationToken);
            foreach (var m in models)
            {
                owners[$"run:{m.SourceRunId}"].Model ??= m.ModelName;
            }
        }

        return owners;
    }

    private static bool Passes(IReadOnlyDictionary<string, UsageOwnerRow> owners, string owner, CostFilter? filter)
    {
        if (filter is null)
        {
            return true;
        }

        owners.TryGetValue(owner, out var o);
        return (filter.Team is null || string.Equals(o?.Team ?? NoTeam, filter.Team, StringComparison.OrdinalIgnoreCase))
            && (filter.Experiment is null || string.Equals(o?.Experiment, filter.Experiment, StringComparison.Ordinal))
            && (filter.Owner is null || string.Equals(owner, filter.Owner, StringComparison.Ordinal));
    }

    public static string KeyOf(CostGroup groupBy, IReadOnlyDictionary<string, UsageOwnerRow> owners, string owner)
    {
        owners.TryGetValue(owner, out var o);
        return groupBy switch
        {
            CostGroup.Team => o?.Team ?? NoTeam,
            CostGroup.User => o?.User ?? "(unknown)",
            CostGroup.Experiment => o?.Experiment ?? (o?.Kind == UsageKind.Deployment ? "(serving)" : "(none)"),
            CostGroup.Model => o?.Model ?? "(no model)",
            CostGroup.Endpoint => o?.Endpoint ?? "(training)",
            CostGroup.Owner => owner,
            _ => owner,
        };
    }

    /// <summary>Usage in the period summed per owner, compute and bucket, then priced.</summary>
    private async Task<(List<Priced> Priced, IReadOnlyList<string> Unpriced, List<PriceCard> Cards)> PriceAsync(
        PortalDbContext db, DateTime from, DateTime to, long size, CostFilter? filter, CancellationToken cancellationToken)
    {
        const long Day = 86_400_000;
        var fromMs = TelemetryRollups.Ms(from) / 3_600_000 * 3_600_000;
        var toMs = TelemetryRollups.Ms(to);

        // Whole days of day buckets come from the daily ledger; the hours at either end (and short periods) from the hourly one.
        var fullFrom = size == Day ? (fromMs + Day - 1) / Day * Day : long.MaxValue;
        var fullTo = size == Day ? toMs / Day * Day : long.MinValue;
        var buckets = new List<Bucket>();
        if (fullFrom < fullTo)
        {
            buckets.AddRange(await SumAsync(db.UsageDays.AsNoTracking().Where(u => u.Start >= fullFrom && u.Start < fullTo), size, filter, cancellationToken));
            buckets.AddRange(await SumAsync(db.UsageHours.AsNoTracking().Where(u => (u.Start >= fromMs && u.Start < fullFrom) || (u.Start >= fullTo && u.Start < toMs)), size, filter, cancellationToken));
        }
        else
        {
            buckets.AddRange(await SumAsync(db.UsageHours.AsNoTracking().Where(u => u.Start >= fromMs && u.Start < toMs), size, filter, cancellationToken));
        }

        var cards = await db.PriceCards.AsNoTracking().ToListAsync(cancellationToken);
        var unpriced = new SortedSet<string>(StringComparer.Ordinal);
        var priced = new List<Priced>(buckets.Count);
        foreach (var b in buckets)
        {
            var at = TelemetryRollups.FromMs(b.Start);
            var card = cards.FirstOrDefault(c => string.Equals(c.Compute, b.Compute, StringComparison.OrdinalIgnoreCase) && c.Covers(at))
                ?? cards.FirstOrDefault(c => string.Equals(c.Compute, b.Compute, StringComparison.OrdinalIgnoreCase) && c.Covers(TelemetryRollups.FromMs(Math.Min(b.Start + size - 1, toMs - 1))));
            decimal cost = 0, gpuCost = 0;
            if (card is null)
            {
                if (b.Gpu > 0 || b.ComputeSeconds > 0)
                {
                    unpriced.Add(b.Compute);
                }
            }
            else if (b.Gpu > 0)
            {
                // A GPU's time carries its share of the whole instance; its processes' time is not charged again.
                gpuCost = cost = (decimal)(b.Gpu / 3600) * (card.PricePerGpuHour ?? card.PricePerHour);
            }
            else
            {
                cost = (decimal)(b.ComputeSeconds / 3600) * card.PricePerHour;
            }

            priced.Add(new Priced(b.Owner, b.Start, cost, b.Gpu, b.Busy, b.Known, b.ComputeSeconds, b.Energy, gpuCost));
        }

        return (priced, unpriced.ToList(), cards);
    }

    private static Task<List<Bucket>> SumAsync<T>(IQueryable<T> usage, long size, CostFilter? filter, CancellationToken cancellationToken)
        where T : UsageBucket
    {
        if (filter?.Compute is { } compute)
        {
            usage = usage.Where(u => u.Compute == compute);
        }

        if (filter?.Owner is { } owner)
        {
            usage = usage.Where(u => u.Owner == owner);
        }

        return usage
            .GroupBy(u => new { u.Owner, u.Compute, Start = u.Start / size })
            .Select(g => new Bucket(g.Key.Owner, g.Key.Compute, g.Key.Start * size, g.Sum(u => u.GpuSeconds), g.Sum(u => u.BusyGpuSeconds), g.Sum(u => u.BusyKnownSeconds),
                g.Sum(u => u.ComputeSeconds), g.Sum(u => u.EnergyJ)))
            .ToListAsync(cancellationToken);
    }

    /// <summary>Idle GPU seconds past the idle window within the period, per owner, with their cost.</summary>
    private static async Task<Dictionary<string, (double Seconds, decimal Cost)>> WasteAsync(PortalDbContext db, DateTime from, DateTime to, List<PriceCard> cards, CancellationToken cancellationToken)
    {
        var stretches = await db.IdleStretches.AsNoTracking().Where(s => s.Flagged && s.StartedAt < to && s.LastMinute >= from)
            .Join(db.GpuDevices.AsNoTracking(), s => s.DeviceId, d => d.Id, (s, d) => new { Stretch = s, d.Compute })
            .ToListAsync(cancellationToken);
        return stretches.GroupBy(s => s.Stretch.Owner, StringComparer.Ordinal).ToDictionary(g => g.Key, g => (g.Sum(s => s.Stretch.IdleSecondsWithin(from, to)), Round(g.Sum(s =>
        {
            var card = cards.FirstOrDefault(c => string.Equals(c.Compute, s.Compute, StringComparison.OrdinalIgnoreCase) && c.Covers(s.Stretch.StartedAt));
            return card is null ? 0m : (decimal)(s.Stretch.IdleSecondsWithin(from, to) / 3600) * (card.PricePerGpuHour ?? card.PricePerHour);
        }))), StringComparer.Ordinal);
    }

    private static long BucketFor(DateTime from, DateTime to) => (to - from).TotalDays <= 3 ? 3_600_000 : 86_400_000;

    private static void CheckPeriod(DateTime from, DateTime to)
    {
        if (to <= from)
        {
            throw new InvalidInputException("to", "to: the period must end after it starts.");
        }

        if ((to - from).TotalDays > 800)
        {
            throw new InvalidInputException("from", "from: a report covers at most 800 days.");
        }
    }

    private static decimal Round(decimal value) => Math.Round(value, 4);
}
