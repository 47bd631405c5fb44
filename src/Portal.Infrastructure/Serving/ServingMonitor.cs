using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Configuration;

namespace Portal.Infrastructure.Serving;

/// <summary>The live figures of every deployment, by endpoint and deployment name.</summary>
public sealed class ServingMonitor(IOptions<PortalOptions> options)
{
    private readonly ConcurrentDictionary<(string Endpoint, string Deployment), DeploymentStats> _stats = new();

    public DeploymentStats StatsOf(string endpoint, string deployment) =>
        _stats.GetOrAdd((endpoint, deployment), key => new DeploymentStats(key.Endpoint, key.Deployment, options.Value.Deployments.DriftWindowMaxRows));

    public DeploymentStats? Find(string endpoint, string deployment) => _stats.GetValueOrDefault((endpoint, deployment));

    public IReadOnlyCollection<DeploymentStats> All => [.. _stats.Values];

    /// <summary>Drops the figures of deployments that no longer exist.</summary>
    public void Forget(IReadOnlySet<(string Endpoint, string Deployment)> live)
    {
        foreach (var key in _stats.Keys)
        {
            if (!live.Contains(key))
            {
                _stats.TryRemove(key, out _);
            }
        }
    }
}
