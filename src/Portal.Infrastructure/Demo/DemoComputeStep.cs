using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Identity;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// Compute and cost: example price cards (marked as examples to edit), and — with the simulated fleet on — its
/// runs, a week of its readings sent through the ingestion path, and budgets that put one team near its limit.
/// </summary>
public sealed partial class DemoComputeStep(ILogger<DemoComputeStep> logger) : IDemoSeedStep
{
    private static readonly Actor Admin = new(SimulatedFleet.Admin, [Roles.Admin, Roles.DataScientist]);

    public string Name => "compute";

    public int Order => 50;

    public bool BeforeStartup => false;

    public string Description => "Example price cards; a simulated GPU fleet with a week of history, and budgets";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var services = context.Services;
        var costs = services.GetRequiredService<CostService>();
        var time = services.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow().UtcDateTime;
        var yearStart = new DateTime(now.Year, 1, 1, 0, 0, 0, DateTimeKind.Utc);
        if ((await costs.PriceCardsAsync(cancellationToken)).Count == 0)
        {
            // Azure pay-as-you-go list prices seen in published price data; examples to edit, not agreed prices.
            await costs.SavePriceCardAsync(null, new PriceCardSpec(SimulatedFleet.Compute, 98.32m, 8, costs.Currency, yearStart, null, "Example: Azure pay-as-you-go list price (8 × H100). Edit to your agreed price."), Actor.System, cancellationToken, example: true);
            await costs.SavePriceCardAsync(null, new PriceCardSpec("Standard_NC24ads_A100_v4", 3.67m, 1, costs.Currency, yearStart, null, "Example: Azure pay-as-you-go list price (1 × A100). Edit to your agreed price."), Actor.System, cancellationToken, example: true);
            await costs.SavePriceCardAsync(null, new PriceCardSpec("local", 0.192m, 0, costs.Currency, yearStart, null, "Example: this machine priced like a 4-vCPU VM (Standard_D4s_v5). Edit to what it costs you."), Actor.System, cancellationToken, example: true);
        }

        if (!services.GetRequiredService<IOptions<PortalOptions>>().Value.Demo.SimulatedFleet)
        {
            return;
        }

        var runs = await EnsureRunsAsync(services, now, cancellationToken);
        var ingestor = services.GetRequiredService<TelemetryIngestor>();
        var deployment = await DeploymentLabelAsync(services, cancellationToken);

        // A week at one reading a minute, an hour per batch, through the same path as a scrape.
        var from = now.AddDays(-7);
        for (var hour = from; hour < now; hour = hour.AddHours(1))
        {
            var readings = Enumerable.Range(0, 60).Select(m => hour.AddMinutes(m)).Where(t => t < now)
                .SelectMany(t => SimulatedFleet.Readings(t, now, runs, deployment)).ToList();
            foreach (var host in readings.GroupBy(r => r.Host))
            {
                await ingestor.IngestAsync(new TelemetryBatch(SimulatedFleet.Hosts[host.Key], "simulated", host.Select(r => r.Reading).ToList(), []),
                    new IngestSettings(SimulatedFleet.Compute, TimeSpan.FromMinutes(1), Simulated: true), cancellationToken);
            }
        }

        await services.GetRequiredService<TelemetryWorker>().CheckHistoryAsync(from, cancellationToken);
        await EnsureBudgetsAsync(services, costs, cancellationToken);
        LogSeeded(SimulatedFleet.Hosts.Length * 8);
    }

    /// <summary>The fleet's runs (created once, started when their GPUs were first taken), by name → id.</summary>
    internal static async Task<Dictionary<string, string>> EnsureRunsAsync(IServiceProvider services, DateTime now, CancellationToken cancellationToken)
    {
        var tracking = services.GetRequiredService<TrackingStore>();
        var scientist = new Actor(SimulatedFleet.Scientist, [Roles.DataScientist]);
        var experiment = await tracking.GetOrCreateExperimentAsync(SimulatedFleet.Experiment, scientist, cancellationToken);
        var ids = await FindRunsAsync(services, cancellationToken);
        foreach (var (name, user, since) in new[]
        {
            (SimulatedFleet.FineTune, SimulatedFleet.Scientist, SimulatedFleet.Holder(0, 0, now)!.Since),
            (SimulatedFleet.Pretrain, SimulatedFleet.Admin, SimulatedFleet.Holder(1, 0, now)!.Since),
            (SimulatedFleet.Notebook, SimulatedFleet.Scientist, SimulatedFleet.Holder(1, 4, now)!.Since),
        })
        {
            if (!ids.ContainsKey(name))
            {
                var actor = user == SimulatedFleet.Admin ? Admin : scientist;
                var run = await tracking.CreateRunAsync(experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), name, since,
                    new Dictionary<string, string>(StringComparer.Ordinal) { ["portal.simulated"] = "true", ["mlflow.note.content"] = "Sample data: a run of the demo's simulated GPU fleet." }, actor, cancellationToken);
                ids[name] = run.Id;
            }
        }

        return ids;
    }

    internal static async Task<Dictionary<string, string>> FindRunsAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        var experiment = await db.Experiments.AsNoTracking().Where(e => e.Name == SimulatedFleet.Experiment).Select(e => (long?)e.Id).FirstOrDefaultAsync(cancellationToken);
        return experiment is null
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : await db.Runs.AsNoTracking().Where(r => r.ExperimentId == experiment).ToDictionaryAsync(r => r.Name, r => r.Id, StringComparer.Ordinal, cancellationToken);
    }

    /// <summary>The demo deployment as DCGM's job label (<c>endpoint/deployment</c>), when the demo deployed one.</summary>
    internal static async Task<string?> DeploymentLabelAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync(cancellationToken);
        var endpoint = await db.Endpoints.AsNoTracking().FirstOrDefaultAsync(e => e.Name == DemoDeploymentsStep.Endpoint, cancellationToken);
        return endpoint?.Deployments.FirstOrDefault() is { } deployment ? $"{endpoint.Name}/{deployment.Name}" : null;
    }

    /// <summary>Budgets set from this month's spending so far: credit-risk near its limit (95 %), ml-platform well inside.</summary>
    private static async Task EnsureBudgetsAsync(IServiceProvider services, CostService costs, CancellationToken cancellationToken)
    {
        var reports = services.GetRequiredService<CostReports>();
        var time = services.GetRequiredService<TimeProvider>();
        var now = time.GetUtcNow().UtcDateTime;
        var month = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var report = await reports.ReportAsync(CostGroup.Team, month, now.AddHours(1), null, cancellationToken);
        decimal Spent(string team) => report.Rows.FirstOrDefault(r => r.Key == team)?.Cost ?? 0m;
        static decimal Budget(decimal spent, decimal share) => spent > 0 ? Math.Max(100m, Math.Ceiling(spent / share / 10m) * 10m) : 1000m;
        if ((await reports.BudgetsAsync(cancellationToken)).Count == 0)
        {
            var ops = new Actor("ops@demo.local", [Roles.Ops]);
            await costs.SaveBudgetAsync(BudgetScope.Team, "credit-risk", Budget(Spent("credit-risk"), 0.95m), ops, cancellationToken);
            await costs.SaveBudgetAsync(BudgetScope.Team, "ml-platform", Budget(Spent("ml-platform"), 0.4m), ops, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: a simulated fleet of {Gpus} GPUs with a week of readings (sample data)")]
    private partial void LogSeeded(int gpus);
}
