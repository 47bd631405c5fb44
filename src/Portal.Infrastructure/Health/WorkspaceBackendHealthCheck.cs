using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Health;

/// <summary>Reports the workspace backend's own view of its health.</summary>
internal sealed class WorkspaceBackendHealthCheck(IWorkspaceBackend backend) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var health = await backend.CheckHealthAsync(cancellationToken);
        var data = health.Details.ToDictionary(d => d.Key, d => (object)d.Value);
        data["backend"] = backend.Kind;
        return health.Status switch
        {
            BackendHealthStatus.Healthy => HealthCheckResult.Healthy(health.Description, data),
            BackendHealthStatus.Degraded => HealthCheckResult.Degraded(health.Description, data: data),
            _ => HealthCheckResult.Unhealthy(health.Description, data: data),
        };
    }
}
