using Microsoft.EntityFrameworkCore;
using Portal.Domain.Jobs;
using Portal.Features.Navigation;
using Portal.Infrastructure.Persistence;
using Prometheus;

namespace Portal.Operations;

/// <summary>
/// <c>GET /metrics</c> in Prometheus text: the deployments' series (requests by status, latency histograms,
/// in-flight requests, mirroring, restarts, drift), jobs by state, and the portal's own HTTP metrics.
/// Scraping needs Ops or an administrator (a Prometheus server sends one of their personal tokens as a Bearer).
/// </summary>
internal static class MetricsEndpoint
{
    /// <summary>HTTP metrics for every route but scoring, which counts itself per deployment.</summary>
    public static WebApplication UsePortalHttpMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        app.UseWhen(c => !c.Request.Path.StartsWithSegments("/score") && !c.Request.Path.StartsWithSegments("/_blazor"), branch => branch.UseHttpMetrics(options =>
        {
            options.RequestCount.Registry = registry;
            options.RequestDuration.Registry = registry;
            options.InProgress.Registry = registry;
        }));
        return app;
    }

    public static WebApplication MapPortalMetrics(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var registry = app.Services.GetRequiredService<CollectorRegistry>();
        var jobs = Metrics.WithCustomRegistry(registry).CreateGauge("portal_jobs", "Jobs by state, now.", ["state"]);
        var dbFactory = app.Services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        registry.AddBeforeCollectCallback(async cancellationToken =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var counts = await db.Jobs.AsNoTracking().GroupBy(j => j.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
            foreach (var state in Enum.GetValues<JobStatus>())
            {
                jobs.WithLabels(state.ToString()).Set(counts.FirstOrDefault(c => c.Key == state)?.Count ?? 0);
            }
        });
        app.MapMetrics("/metrics", registry).RequireAuthorization(PortalAreas.Policies.Metrics);
        return app;
    }
}
