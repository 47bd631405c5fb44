using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Identity;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>One resource in a reconciliation: what Azure billed beside what the portal estimated.</summary>
public sealed record ReconciliationRow(string Resource, string? Endpoint, string? Deployment, decimal Actual, decimal? Estimate)
{
    public decimal? Difference => Estimate is { } e ? Actual - e : null;

    /// <summary>Difference as a share of the actual cost; null when either side is missing or nothing was billed.</summary>
    public double? DifferenceShare => Estimate is { } e && Actual != 0 ? (double)((Actual - e) / Actual) : null;
}

public sealed record Reconciliation(CostImport Import, IReadOnlyList<ReconciliationRow> Rows, decimal Actual, decimal Estimate);

/// <summary>
/// Price cards (administrators), budgets (Ops and administrators) and imported Azure cost exports with their
/// reconciliation against the portal's estimate. Every change is audited.
/// </summary>
public sealed class CostService(IDbContextFactory<PortalDbContext> dbFactory, CostReports reports, IOptions<PortalOptions> options, TimeProvider time)
{
    public string Currency => options.Value.Cost.Currency;

    public static bool MayManageBudgets(Actor actor) => actor.IsIn(Roles.Ops) || actor.IsIn(Roles.Admin);

    public static bool MayManagePrices(Actor actor) => actor.IsIn(Roles.Admin);

    public async Task<IReadOnlyList<PriceCard>> PriceCardsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await db.PriceCards.AsNoTracking().ToListAsync(cancellationToken)).OrderBy(c => c.Compute, StringComparer.OrdinalIgnoreCase).ThenBy(c => c.ValidFrom).ToList();
    }

    public async Task<PriceCard> SavePriceCardAsync(Guid? id, PriceCardSpec spec, Actor actor, CancellationToken cancellationToken, bool example = false)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!MayManagePrices(actor) && actor != Actor.System)
        {
            throw new NotPermittedException("Only administrators set price cards.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var all = await db.PriceCards.ToListAsync(cancellationToken);
        PriceCard card;
        string? before = null;
        if (id is { } existing)
        {
            card = all.FirstOrDefault(c => c.Id == existing) ?? throw new NotFoundException($"There is no price card {existing}.");
            before = card.Describe();
            card.Change(spec, Currency, all, actor, time);
        }
        else
        {
            card = PriceCard.Create(spec, Currency, all, actor, time, example);
            db.PriceCards.Add(card);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.PriceCardChanged, $"price-card:{card.Compute}", time, before: before, after: card.Describe()));
        await db.SaveChangesAsync(cancellationToken);
        return card;
    }

    public async Task DeletePriceCardAsync(Guid id, Actor actor, CancellationToken cancellationToken)
    {
        if (!MayManagePrices(actor))
        {
            throw new NotPermittedException("Only administrators set price cards.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var card = await db.PriceCards.FirstOrDefaultAsync(c => c.Id == id, cancellationToken) ?? throw new NotFoundException($"There is no price card {id}.");
        db.PriceCards.Remove(card);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.PriceCardChanged, $"price-card:{card.Compute}", time, before: card.Describe(), after: "deleted"));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Sets the monthly budget of a team or experiment (creating it the first time).</summary>
    public async Task<Budget> SaveBudgetAsync(BudgetScope scope, string key, decimal monthlyAmount, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!MayManageBudgets(actor) && actor != Actor.System)
        {
            throw new NotPermittedException("Only Ops and administrators set budgets.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var trimmed = key?.Trim() ?? "";
        var budget = await db.Budgets.FirstOrDefaultAsync(b => b.Scope == scope && b.Key == trimmed, cancellationToken);
        string? before = null;
        if (budget is null)
        {
            budget = Budget.Create(scope, trimmed, monthlyAmount, Currency, actor, time);
            db.Budgets.Add(budget);
        }
        else
        {
            before = string.Create(CultureInfo.InvariantCulture, $"{budget.MonthlyAmount:0.##} {budget.Currency}/month");
            budget.ChangeAmount(monthlyAmount);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.BudgetChanged, budget.Source, time, before: before,
            after: string.Create(CultureInfo.InvariantCulture, $"{budget.MonthlyAmount:0.##} {budget.Currency}/month")));
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (DatabaseErrors.IsUniqueViolation(e))
        {
            throw new DomainException($"Someone set a budget for {budget.Label} at the same moment; reload and try again.");
        }

        return budget;
    }

    public async Task DeleteBudgetAsync(Guid id, Actor actor, CancellationToken cancellationToken)
    {
        if (!MayManageBudgets(actor))
        {
            throw new NotPermittedException("Only Ops and administrators set budgets.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var budget = await db.Budgets.FirstOrDefaultAsync(b => b.Id == id, cancellationToken) ?? throw new NotFoundException($"There is no budget {id}.");
        db.Budgets.Remove(budget);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.BudgetChanged, budget.Source, time,
            before: string.Create(CultureInfo.InvariantCulture, $"{budget.MonthlyAmount:0.##} {budget.Currency}/month"), after: "deleted"));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Imports an Azure cost export whole (or refuses it whole) and returns its reconciliation.</summary>
    public async Task<Reconciliation> ImportAsync(string fileName, string text, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!MayManageBudgets(actor))
        {
            throw new NotPermittedException("Only Ops and administrators import cost exports.");
        }

        var file = CostExport.Parse(text);
        if (!string.Equals(file.Currency, Currency, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidInputException("file", $"file: the export is in {file.Currency} but the portal keeps costs in {Currency} (Portal:Cost:Currency); export in {Currency} to compare.");
        }

        var import = new CostImport
        {
            Id = Guid.NewGuid(),
            FileName = Path.GetFileName(fileName ?? "export.csv") is { Length: > 0 and <= 200 } name ? name : "export.csv",
            Format = file.Format,
            Currency = file.Currency,
            Rows = file.Lines.Count,
            Total = file.Lines.Sum(l => l.Cost),
            PeriodStart = file.Lines.Min(l => l.Date),
            PeriodEnd = file.Lines.Max(l => l.Date).AddDays(1),
            ImportedBy = actor.Name,
            ImportedAt = time.GetUtcNow().UtcDateTime,
            Lines = file.Lines.Select(l => new CostImportLine
            {
                Date = l.Date,
                ResourceId = l.ResourceId.Length > 1000 ? l.ResourceId[..1000] : l.ResourceId,
                Endpoint = l.Endpoint is { Length: <= 100 } e ? e : null,
                Deployment = l.Deployment is { Length: <= 100 } d ? d : null,
                Meter = l.Meter is { Length: > 200 } m ? m[..200] : l.Meter,
                Cost = l.Cost,
            }).ToList(),
        };
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.CostImports.Add(import);
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.CostExportImported, $"cost-import:{import.Id}", time,
                after: string.Create(CultureInfo.InvariantCulture, $"{import.FileName}: {import.Format}, {import.Rows} lines, {import.Total:0.##} {import.Currency}, {import.PeriodStart:yyyy-MM-dd}–{import.PeriodEnd:yyyy-MM-dd}")));
            await db.SaveChangesAsync(cancellationToken);
        }

        return await ReconcileAsync(import.Id, cancellationToken);
    }

    public async Task<IReadOnlyList<CostImport>> ImportsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.CostImports.AsNoTracking().OrderByDescending(i => i.ImportedAt).Take(50).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Actual cost per resource beside the portal's estimate for it over the export's period: online endpoint
    /// deployments are matched by their tags; the rest of the export shows with no estimate.
    /// </summary>
    public async Task<Reconciliation> ReconcileAsync(Guid importId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var import = await db.CostImports.AsNoTracking().Include(i => i.Lines).FirstOrDefaultAsync(i => i.Id == importId, cancellationToken)
            ?? throw new NotFoundException($"There is no cost import {importId}.");
        var estimate = await reports.ReportAsync(CostGroup.Owner, import.PeriodStart, import.PeriodEnd, null, cancellationToken);
        var estimates = estimate.Rows.ToDictionary(r => r.Key, r => r.Cost, StringComparer.Ordinal);
        var rows = import.Lines
            .GroupBy(l => l.Endpoint is null ? l.ResourceId : $"deployment:{l.Endpoint}:{l.Deployment}", StringComparer.OrdinalIgnoreCase)
            .Select(g =>
            {
                var first = g.First();
                decimal? portal = null;
                if (first.Endpoint is { } endpoint)
                {
                    portal = first.Deployment is { } deployment
                        ? estimates.GetValueOrDefault($"deployment:{endpoint}:{deployment}")
                        : estimates.Where(e => e.Key.StartsWith($"deployment:{endpoint}:", StringComparison.Ordinal)).Sum(e => e.Value);
                }

                return new ReconciliationRow(first.Endpoint is null ? first.ResourceId : $"{first.Endpoint}{(first.Deployment is null ? "" : " / " + first.Deployment)}",
                    first.Endpoint, first.Deployment, g.Sum(l => l.Cost), portal);
            })
            .OrderByDescending(r => r.Actual)
            .ToList();
        return new Reconciliation(import, rows, rows.Sum(r => r.Actual), rows.Sum(r => r.Estimate ?? 0));
    }
}
