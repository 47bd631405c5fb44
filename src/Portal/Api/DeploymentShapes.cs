using Portal.Domain.Deployments;
using Endpoint = Portal.Domain.Deployments.Endpoint;
using Portal.Domain.Ports;
using Portal.Infrastructure.Serving;

namespace Portal.Api;

public sealed record KeysShape(string Primary, string Secondary);

public sealed record MirrorShape(string Deployment, int Percent);

public sealed record FiguresShape(long Requests, double RequestsPerSecond, double? ErrorRate, double? P50Ms, double? P95Ms, double? P99Ms, double? ModelP95Ms,
    double? GatewayP50Ms, double? GatewayP95Ms, double? Drift, bool Drifted, long Mirrored, double? MirrorDisagreement);

public sealed record DeploymentShape(
    string Name, string Model, int Version, string State, string? StateReason, int Traffic, int MirrorPercent, int InstanceCount, int RequestTimeoutMs,
    int MaxConcurrentRequestsPerInstance, int MaxQueueWaitMs, ProbeSettings Liveness, ProbeSettings Readiness, string ArtifactHash, int Generation,
    DateTime CreatedAt, string CreatedBy, FiguresShape Metrics, IReadOnlyList<InstanceStatus>? Instances);

public sealed record EndpointShape(
    string Name, string? Description, string ScoringUri, string Etag, DateTime CreatedAt, string CreatedBy, IReadOnlyDictionary<string, int> Traffic,
    MirrorShape? Mirror, IReadOnlyList<DeploymentShape> Deployments, Rollout? Rollout, IReadOnlyList<Rollout> PastRollouts, IReadOnlyList<TrafficChange> History,
    DateTime KeysChangedAt, KeysShape? Keys = null);

/// <summary>How endpoints and their figures look to scripts (camelCase JSON).</summary>
internal static class DeploymentShapes
{
    /// <summary>The window of the summary figures on an endpoint's deployments.</summary>
    public static readonly TimeSpan SummaryWindow = TimeSpan.FromMinutes(5);

    public static EndpointShape Endpoint(Endpoint e, ServingMonitor monitor, TimeProvider time, IReadOnlyDictionary<string, IReadOnlyList<InstanceStatus>>? instances) => new(
        e.Name, e.Description, $"/score/{e.Name}", e.ConcurrencyStamp.ToString(), e.CreatedAt, e.CreatedBy, e.Assignment.Traffic,
        e.Assignment.MirrorDeployment is { } mirror ? new MirrorShape(mirror, e.Assignment.MirrorPercent) : null,
        [.. e.Deployments.Select(d => Deployment(e, d, monitor, time, instances?.GetValueOrDefault(d.Name)))],
        e.ActiveRollout, e.PastRollouts.Reverse().Take(5).ToList(), e.History.Reverse().Take(20).ToList(), e.KeysChangedAt);

    public static DeploymentShape Deployment(Endpoint e, Deployment d, ServingMonitor monitor, TimeProvider time, IReadOnlyList<InstanceStatus>? instances)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var stats = monitor.Find(e.Name, d.Name);
        var summary = stats?.Summarise(now - SummaryWindow, now);
        var drift = stats?.LatestDrift;
        var figures = new FiguresShape(summary?.Requests ?? 0, summary?.RequestsPerSecond ?? 0, summary?.ErrorRate, summary?.P50Ms, summary?.P95Ms, summary?.P99Ms,
            summary?.ModelP95Ms, summary?.GatewayP50Ms, summary?.GatewayP95Ms, drift is { Features.Count: > 0 } ? drift.MaxScore : null, drift?.Drifted ?? false,
            summary?.Mirrored ?? 0, summary?.MirrorDisagreement);
        return new DeploymentShape(d.Name, d.ModelName, d.ModelVersion, d.State.ToString(), d.StateReason, e.Assignment.PercentOf(d.Name),
            e.Assignment.MirrorDeployment == d.Name ? e.Assignment.MirrorPercent : 0, d.InstanceCount, d.RequestTimeoutMs, d.MaxConcurrentRequestsPerInstance,
            d.MaxQueueWaitMs, d.Liveness, d.Readiness, d.ArtifactHash, d.Generation, d.CreatedAt, d.CreatedBy, figures, instances);
    }

    public static object Point(DateTime at, StatsSummary s) => new
    {
        at,
        requests = s.Requests,
        requestsPerSecond = s.RequestsPerSecond,
        errors = s.Errors,
        errorRate = s.ErrorRate,
        p50Ms = s.P50Ms,
        p95Ms = s.P95Ms,
        p99Ms = s.P99Ms,
        modelP50Ms = s.ModelP50Ms,
        modelP95Ms = s.ModelP95Ms,
        modelP99Ms = s.ModelP99Ms,
        gatewayP50Ms = s.GatewayP50Ms,
        gatewayP95Ms = s.GatewayP95Ms,
        gatewayP99Ms = s.GatewayP99Ms,
        byStatus = s.ByStatus.ToDictionary(b => b.Key.ToString(System.Globalization.CultureInfo.InvariantCulture), b => b.Value),
        mirrored = s.Mirrored,
        mirrorDisagreement = s.MirrorDisagreement,
        restarts = s.Restarts,
    };
}
