using System.Collections.Concurrent;
using System.Collections.Frozen;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Datasets;
using Portal.Domain.Deployments;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Serving;

/// <summary>An instance the gateway may send requests to.</summary>
public sealed record InstanceRoute(Guid Id, int Index, Uri Address, bool Ready)
{
    /// <summary>Where scoring requests go, built once rather than per request.</summary>
    public Uri ScoreUri { get; } = new(Address, "score");
}

/// <summary>
/// Everything the gateway needs about one deployment, read once per change instead of once per request:
/// its weight, limits, the signature requests are checked against, the training data's sensitive columns
/// and drift reference, and the instances that are ready now (replaced by the supervisor as they come and go).
/// </summary>
public sealed class DeploymentRoute
{
    private InstanceRoute[] _ready = [];
    private int _next;

    public required string Endpoint { get; init; }

    public required string Name { get; init; }

    public required string Model { get; init; }

    public required int Version { get; init; }

    public required DeploymentState State { get; init; }

    public string? StateReason { get; init; }

    /// <summary>Share of live traffic (0–100).</summary>
    public required int Weight { get; init; }

    public required int RequestTimeoutMs { get; init; }

    public required int MaxQueueWaitMs { get; init; }

    /// <summary>Requests in flight at once across its instances (instances × max concurrent per instance).</summary>
    public required SemaphoreSlim Limiter { get; init; }

    public required IReadOnlyList<ColumnSchema> Signature { get; init; }

    public required FrozenSet<string> SensitiveColumns { get; init; }

    /// <summary>The training dataset version's profile, what live inputs are compared with; null when lineage names none.</summary>
    public DatasetProfile? Reference { get; init; }

    public string? ReferenceDataset { get; init; }

    public DataContract? Contract { get; init; }

    public required DeploymentStats Stats { get; init; }

    public required ServingMetrics.DeploymentSeries Metrics { get; init; }

    public InstanceRoute[] ReadyInstances => Volatile.Read(ref _ready);

    public bool IsServing => State == DeploymentState.Healthy && ReadyInstances.Length > 0;

    public void SetInstances(IEnumerable<InstanceRoute> instances) => Volatile.Write(ref _ready, [.. instances.Where(i => i.Ready)]);

    /// <summary>Takes one instance out of rotation now (the supervisor confirms at its next look).</summary>
    public void Without(Guid instance) => Volatile.Write(ref _ready, [.. ReadyInstances.Where(i => i.Id != instance)]);

    /// <summary>The next ready instance, round robin, skipping <paramref name="except"/>; null when none is left.</summary>
    public InstanceRoute? PickInstance(Guid? except = null)
    {
        var ready = ReadyInstances;
        for (var tries = 0; tries < ready.Length; tries++)
        {
            var candidate = ready[(int)((uint)Interlocked.Increment(ref _next) % (uint)ready.Length)];
            if (candidate.Id != except)
            {
                return candidate;
            }
        }

        return null;
    }
}

/// <summary>An endpoint as the gateway routes it.</summary>
public sealed class EndpointRoute
{
    public required string Name { get; init; }

    public required string PrimaryKeyHash { get; init; }

    public required string SecondaryKeyHash { get; init; }

    public required IReadOnlyList<DeploymentRoute> Deployments { get; init; }

    public DeploymentRoute? Mirror { get; init; }

    public int MirrorPercent { get; init; }

    public bool TakesTraffic => Deployments.Any(d => d.Weight > 0);

    public DeploymentRoute? Find(string deployment) => Deployments.FirstOrDefault(d => d.Name == deployment);

    /// <summary>
    /// A deployment by weight among those that can serve now. A deployment that cannot (unhealthy, no ready
    /// instance) gets none of the traffic; the others share it in proportion to their weights.
    /// </summary>
    public DeploymentRoute? Pick(double random)
    {
        var total = 0;
        foreach (var d in Deployments)
        {
            if (d.Weight > 0 && d.IsServing)
            {
                total += d.Weight;
            }
        }

        if (total == 0)
        {
            return null;
        }

        var target = random * total;
        foreach (var d in Deployments)
        {
            if (d.Weight > 0 && d.IsServing)
            {
                target -= d.Weight;
                if (target < 0)
                {
                    return d;
                }
            }
        }

        return Deployments.Last(d => d.Weight > 0 && d.IsServing);
    }
}

/// <summary>
/// The routes of every endpoint, rebuilt from the database when an endpoint changes and swapped in whole,
/// so a request reads one consistent snapshot without a lock. Instances are set by the supervisor as they
/// become ready or leave.
/// </summary>
public sealed class ServingTable(IDbContextFactory<PortalDbContext> dbFactory, ServingMonitor monitor, ServingMetrics metrics)
{
    private readonly ConcurrentDictionary<(string Endpoint, string Deployment), ServingMetrics.DeploymentSeries> _series = new();
    private readonly ConcurrentDictionary<(string Endpoint, string Deployment), (int Capacity, SemaphoreSlim Limiter)> _limiters = new();
    private readonly ConcurrentDictionary<(string Endpoint, string Deployment), InstanceRoute[]> _instances = new();
    private readonly SemaphoreSlim _refresh = new(1, 1);
    private FrozenDictionary<string, EndpointRoute> _routes = FrozenDictionary<string, EndpointRoute>.Empty;

    public EndpointRoute? Find(string endpoint) => Volatile.Read(ref _routes).GetValueOrDefault(endpoint);

    public IReadOnlyCollection<EndpointRoute> All => Volatile.Read(ref _routes).Values;

    /// <summary>Which endpoint a presented key hash belongs to, and which of its keys it is.</summary>
    public (EndpointRoute Endpoint, EndpointKey Key)? FindKey(string hash)
    {
        foreach (var route in Volatile.Read(ref _routes).Values)
        {
            if (FixedTimeEquals(hash, route.PrimaryKeyHash))
            {
                return (route, EndpointKey.Primary);
            }

            if (FixedTimeEquals(hash, route.SecondaryKeyHash))
            {
                return (route, EndpointKey.Secondary);
            }
        }

        return null;
    }

    /// <summary>The supervisor's view of a deployment's instances.</summary>
    public void SetInstances(string endpoint, string deployment, IReadOnlyList<InstanceRoute> instances)
    {
        _instances[(endpoint, deployment)] = [.. instances];
        Find(endpoint)?.Find(deployment)?.SetInstances(instances);
    }

    public IReadOnlyList<InstanceRoute> InstancesOf(string endpoint, string deployment) =>
        _instances.GetValueOrDefault((endpoint, deployment)) ?? [];

    /// <summary>Reads every endpoint again and swaps the new routes in.</summary>
    public async Task RefreshAsync(CancellationToken cancellationToken)
    {
        await _refresh.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken);
            var keys = endpoints.SelectMany(e => e.Deployments).Select(d => new { d.ModelName, d.ModelVersion }).Distinct().ToList();
            var names = keys.Select(k => k.ModelName).Distinct().ToList();
            var versions = (await db.ModelVersions.AsNoTracking().Where(v => names.Contains(v.ModelName)).ToListAsync(cancellationToken))
                .ToDictionary(v => (v.ModelName, v.Version));
            var references = new Dictionary<string, (DatasetProfile? Profile, DataContract? Contract, IReadOnlySet<string> Sensitive)>(StringComparer.Ordinal);
            foreach (var training in versions.Values.Select(v => v.TrainingDatasets.FirstOrDefault()).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                var version = await DatasetCatalog.VersionByRefAsync(db, training, cancellationToken);
                var dataset = version is null ? null : await db.Datasets.AsNoTracking().FirstOrDefaultAsync(d => d.Id == version.DatasetId, cancellationToken);
                references[training] = (version?.Profile, dataset?.Contract,
                    version is null || dataset is null ? new HashSet<string>() : PersonalData.SensitiveColumns(dataset, version));
            }

            var routes = new Dictionary<string, EndpointRoute>(StringComparer.Ordinal);
            foreach (var endpoint in endpoints)
            {
                var deployments = endpoint.Deployments.Select(d =>
                {
                    var version = versions.GetValueOrDefault((d.ModelName, d.ModelVersion));
                    var training = version?.TrainingDatasets.FirstOrDefault();
                    var reference = training is null ? default : references.GetValueOrDefault(training);
                    var route = new DeploymentRoute
                    {
                        Endpoint = endpoint.Name,
                        Name = d.Name,
                        Model = d.ModelName,
                        Version = d.ModelVersion,
                        State = d.State,
                        StateReason = d.StateReason,
                        Weight = endpoint.Assignment.PercentOf(d.Name),
                        RequestTimeoutMs = d.RequestTimeoutMs,
                        MaxQueueWaitMs = d.MaxQueueWaitMs,
                        Limiter = LimiterFor(endpoint.Name, d.Name, d.InstanceCount * d.MaxConcurrentRequestsPerInstance),
                        Signature = version?.Signature ?? [],
                        SensitiveColumns = (reference.Sensitive ?? new HashSet<string>()).ToFrozenSet(StringComparer.Ordinal),
                        Reference = reference.Profile,
                        ReferenceDataset = training,
                        Contract = reference.Contract,
                        Stats = monitor.StatsOf(endpoint.Name, d.Name),
                        Metrics = _series.GetOrAdd((endpoint.Name, d.Name), key => metrics.For(key.Endpoint, key.Deployment)),
                    };
                    route.SetInstances(InstancesOf(endpoint.Name, d.Name));
                    route.Stats.Window.Configure(route.Signature);
                    return route;
                }).ToList();
                routes[endpoint.Name] = new EndpointRoute
                {
                    Name = endpoint.Name,
                    PrimaryKeyHash = endpoint.PrimaryKeyHash,
                    SecondaryKeyHash = endpoint.SecondaryKeyHash,
                    Deployments = deployments,
                    Mirror = endpoint.Assignment.MirrorDeployment is { } mirror ? deployments.FirstOrDefault(d => d.Name == mirror) : null,
                    MirrorPercent = endpoint.Assignment.MirrorPercent,
                };
            }

            Volatile.Write(ref _routes, routes.ToFrozenDictionary(StringComparer.Ordinal));
            var live = routes.Values.SelectMany(r => r.Deployments).Select(d => (d.Endpoint, d.Name)).ToHashSet();
            monitor.Forget(live);
            foreach (var gone in _series.Keys.Where(k => !live.Contains(k)))
            {
                _series.TryRemove(gone, out _);
                metrics.Forget(gone.Endpoint, gone.Deployment);
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    /// <summary>One limiter per deployment and capacity, kept across refreshes so requests in flight are still counted.</summary>
    private SemaphoreSlim LimiterFor(string endpoint, string deployment, int capacity) =>
        _limiters.AddOrUpdate((endpoint, deployment), _ => (capacity, new SemaphoreSlim(capacity, capacity)),
            (_, existing) => existing.Capacity == capacity ? existing : (capacity, new SemaphoreSlim(capacity, capacity))).Limiter;

    private static bool FixedTimeEquals(string a, string b) =>
        a.Length == b.Length && System.Security.Cryptography.CryptographicOperations.FixedTimeEquals(
            System.Text.Encoding.ASCII.GetBytes(a), System.Text.Encoding.ASCII.GetBytes(b));
}
