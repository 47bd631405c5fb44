using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>Raises an alert when a budget's spending this month crosses 50, 80 or 100 % of it (once each per month).</summary>
public sealed class BudgetWatch(IDbContextFactory<PortalDbContext> dbFactory, CostReports reports, TimeProvider time)
{
    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var budgets = await db.Budgets.ToListAsync(cancellationToken);
        if (budgets.Count == 0)
        {
            return;
        }

        var now = time.GetUtcNow().UtcDateTime;
        foreach (var status in await reports.StatusOfAsync(budgets, cancellationToken))
        {
            var budget = status.Budget;
            foreach (var threshold in budget.Observe(status.Spent, now))
            {
                var severity = threshold >= 100 ? AlertSeverity.Critical : threshold >= 80 ? AlertSeverity.Warning : AlertSeverity.Info;
                var f = status.Forecast;
                var alert = Alert.ForSource(budget.Source, severity,
                    string.Create(CultureInfo.InvariantCulture, $"Budget of {budget.Label}: {threshold} % used"),
                    string.Create(CultureInfo.InvariantCulture,
                        $"{budget.Label} has spent {status.Spent:N2} {budget.Currency} of its {budget.MonthlyAmount:N2} this month ({status.Percent:0.#} %); at this rate the month ends near {f.Projected:N2} (95 %: {f.Low:N2}–{f.High:N2})."),
                    status.Percent, threshold, time);
                db.Alerts.Add(alert);
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertRaised, alert.Source, time, after: alert.Title, reason: alert.Message));
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }
}
