using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Endpoint = Portal.Domain.Deployments.Endpoint;
using Portal.Infrastructure.Serving;

namespace Portal.Features.Deployments;

/// <summary>An endpoint as its list row shows it: worst health of what takes traffic, and the live figures of the last minutes.</summary>
public sealed record EndpointRow(
    Endpoint Endpoint, DeploymentState? Health, string? HealthReason, double RequestsPerSecond, double? P95Ms, double? ErrorRate, double? Drift, bool Drifted,
    long SampleTraffic, string? Rollout)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    public static EndpointRow Of(Endpoint endpoint, ServingMonitor monitor, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(monitor);
        var stats = endpoint.Deployments.Select(d => monitor.Find(endpoint.Name, d.Name)).OfType<DeploymentStats>().ToList();
        var summary = DeploymentStats.SummariseAll(stats, now - Window, now);
        var watched = endpoint.Deployments.Where(d => endpoint.Assignment.PercentOf(d.Name) > 0 || endpoint.Assignment.MirrorDeployment == d.Name).ToList();
        var worst = (watched.Count > 0 ? watched : endpoint.Deployments).OrderBy(d => Rank(d.State)).FirstOrDefault();
        var drift = stats.Select(s => s.LatestDrift).Where(d => d is { Features.Count: > 0 }).ToList();
        var rollout = endpoint.ActiveRollout is { } r
            ? r.State == RolloutState.WaitingForHealthy ? $"canary {r.Plan.Canary}: waiting for it to be healthy" : $"canary {r.Plan.Canary} at {r.CurrentPercent} %"
            : null;
        return new EndpointRow(endpoint, worst?.State, worst?.StateReason, summary.RequestsPerSecond, summary.P95Ms, summary.ErrorRate,
            drift.Count == 0 ? null : drift.Max(d => d!.MaxScore), drift.Any(d => d!.Drifted), summary.SampleTraffic, rollout);
    }

    /// <summary>Worst first: what needs attention.</summary>
    public static int Rank(DeploymentState state) => state switch
    {
        DeploymentState.Failed => 0,
        DeploymentState.Unhealthy => 1,
        DeploymentState.Deleting => 2,
        DeploymentState.Creating or DeploymentState.Updating => 3,
        _ => 4,
    };

    /// <summary>Whether Ops should look at it: not healthy, drifting, erring or mid-rollout.</summary>
    public bool NeedsAttention => Health is DeploymentState.Unhealthy or DeploymentState.Failed || Drifted || ErrorRate > 0.05 || Rollout is not null;
}
