using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Deployments;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Local.Isolation;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>
/// Runs the local backend's model servers. Every tick it compares the deployments in the database with the
/// processes it runs: starts missing instances (the configured Python, isolated like training jobs: their
/// own OS user, an allow-listed environment, a bubblewrap sandbox without the data folder), replaces those of
/// an older generation once their successors are ready, stops what is no longer wanted, and probes the rest
/// (readiness and liveness, Azure ML's settings). An instance that exits is restarted with a doubling
/// back-off; one that keeps exiting is a crash loop; one the gateway sees failing request after request is
/// taken out and restarted. From all that it derives each deployment's health, with a reason a person can
/// act on, and tells the endpoint. Instances outlive a portal restart and are re-attached; they stop by
/// themselves once the portal has been gone for a while (the gateway lives in the portal).
/// </summary>
public sealed partial class ModelServerSupervisor(
    IServiceProvider services,
    IDbContextFactory<PortalDbContext> dbFactory,
    DataDirectory data,
    IOptions<PortalOptions> options,
    ProcessIsolation isolation,
    ServingTable table,
    ServingMonitor monitor,
    ServingMetrics metrics,
    TimeProvider time,
    ILogger<ModelServerSupervisor> logger) : BackgroundService, IInstanceHealth
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan SyncEvery = TimeSpan.FromSeconds(2);
    private static readonly TimeSpan HeartbeatEvery = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);
    private readonly Dictionary<(string Endpoint, string Deployment), DeploymentRuntime> _deployments = [];
    private readonly ConcurrentDictionary<Guid, InstanceRuntime> _byId = new();
    private readonly ConcurrentQueue<Action> _probeResults = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly HttpClient _probes = new(new SocketsHttpHandler { UseProxy = false, PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30) }) { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Lock _view = new();
    private Dictionary<(string Endpoint, string Deployment), IReadOnlyList<InstanceStatus>> _statuses = [];
    private DateTime _lastSync = DateTime.MinValue;
    private DateTime _lastHeartbeat = DateTime.MinValue;
    private bool _syncWanted = true;

    /// <summary>
    /// Processes live in real time: probes, back-offs and grace periods are scheduled on the system clock, not
    /// on the injected one (which tests may hold still). Health reports and audit entries use the injected one.
    /// </summary>
    private static DateTime Clock => DateTime.UtcNow;

    /// <summary>Completes once instances left by a previous portal were re-attached or let go.</summary>
    public Task Ready => _ready.Task;

    /// <summary>Where an instance's output goes: the data folder, which the instance cannot see.</summary>
    public string LogFolderOf(string endpoint, string deployment) => Path.Combine(data.Root, "serving", endpoint, deployment);

    /// <summary>Asks for a look at the database now rather than at the next periodic sync.</summary>
    public void Wake()
    {
        _syncWanted = true;
        _wake.Release();
    }

    public IReadOnlyList<InstanceStatus> StatusOf(string endpoint, string deployment)
    {
        lock (_view)
        {
            return _statuses.GetValueOrDefault((endpoint, deployment)) ?? [];
        }
    }

    public void Succeeded(Guid instance)
    {
        if (_byId.TryGetValue(instance, out var found))
        {
            found.RequestSucceeded();
        }
    }

    public void Failed(Guid instance, string problem)
    {
        if (_byId.TryGetValue(instance, out var found) && found.RequestFailed(problem, options.Value.Deployments.EjectAfterFailures))
        {
            // Out of the routes at once, not at the next tick: requests meanwhile would meet a dying instance.
            table.Find(found.Endpoint)?.Find(found.Deployment)?.Without(instance);
            _wake.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ReattachAsync(stoppingToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogLoopFailed(e);
        }
        finally
        {
            _ready.TrySetResult();
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await TickAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLoopFailed(e);
            }

            try
            {
                await _wake.WaitAsync(Tick, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (!options.Value.Deployments.StopInstancesOnShutdown)
        {
            return;
        }

        var all = _deployments.Values.SelectMany(d => d.Instances).ToList();
        foreach (var instance in all)
        {
            ProcessGroup.Signal(instance.Pid, ProcessGroup.SigTerm);
        }

        var until = DateTime.UtcNow + KillGrace;
        while (all.Any(i => Alive(i)) && DateTime.UtcNow < until)
        {
            await Task.Delay(100, CancellationToken.None);
        }

        foreach (var instance in all)
        {
            ProcessGroup.Signal(instance.Pid, ProcessGroup.SigKill);
            ProcessIsolation.DeleteWorkFolder(instance.WorkFolder);
        }

        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            await db.ModelServerInstances.ExecuteDeleteAsync(CancellationToken.None);
        }
        catch (Exception e) when (e is DbUpdateException or InvalidOperationException || DatabaseErrors.IsTransient(e))
        {
            LogLoopFailed(e);
        }
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        while (_probeResults.TryDequeue(out var apply))
        {
            apply();
        }

        var now = Clock;
        if (_syncWanted || now - _lastSync >= SyncEvery)
        {
            _syncWanted = false;
            _lastSync = now;
            await SyncAsync(cancellationToken);
        }

        var routesChanged = false;
        foreach (var runtime in _deployments.Values.ToList())
        {
            if (runtime.Spec.State == DeploymentState.Deleting)
            {
                routesChanged |= await RemoveAsync(runtime, now, cancellationToken);
                continue;
            }

            routesChanged |= await ReconcileAsync(runtime, now, cancellationToken);
            StartProbes(runtime, now);
            routesChanged |= await ReportAsync(runtime, cancellationToken);
        }

        if (now - _lastHeartbeat >= HeartbeatEvery)
        {
            _lastHeartbeat = now;
            Heartbeat();
        }

        Publish();
        if (routesChanged)
        {
            await table.RefreshAsync(cancellationToken);
            Publish();
        }
    }

    /// <summary>Reads the deployments the database wants and adopts changes of their settings.</summary>
    private async Task SyncAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken);
        var wanted = new HashSet<(string, string)>();
        foreach (var endpoint in endpoints)
        {
            foreach (var deployment in endpoint.Deployments)
            {
                var key = (endpoint.Name, deployment.Name);
                wanted.Add(key);
                if (!_deployments.TryGetValue(key, out var runtime))
                {
                    _deployments[key] = runtime = new DeploymentRuntime(endpoint.Name, deployment.Name) { Spec = deployment };
                    runtime.Reported = deployment.State;
                    runtime.ReportedReason = deployment.StateReason;
                }

                if (runtime.Spec.Generation != deployment.Generation)
                {
                    runtime.FailedReason = null;
                }

                runtime.Spec = deployment;
                if (deployment.State is DeploymentState.Creating or DeploymentState.Updating or DeploymentState.Deleting)
                {
                    // Moves people made (add, update, delete) win over what the supervisor last reported.
                    runtime.Reported = deployment.State;
                    runtime.ReportedReason = deployment.StateReason;
                }
            }
        }

        foreach (var gone in _deployments.Keys.Where(k => !wanted.Contains(k)).ToList())
        {
            foreach (var instance in _deployments[gone].Instances)
            {
                Stop(instance, "its deployment is gone");
            }

            if (_deployments[gone].Instances.Count == 0)
            {
                _deployments.Remove(gone);
            }
        }
    }

    /// <summary>Renews every instance's sign that the portal is alive, and keeps logs small.</summary>
    private void Heartbeat()
    {
        var now = DateTime.UtcNow;
        foreach (var instance in _deployments.Values.SelectMany(d => d.Instances))
        {
            try
            {
                var alive = Path.Combine(instance.WorkFolder, ".portal-alive");
                if (File.Exists(alive))
                {
                    File.SetLastWriteTimeUtc(alive, now);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The folder is going away with its instance.
            }

            InstanceLog.Trim(instance.LogFile);
        }
    }

    /// <summary>Hands the gateway the ready instances and keeps the status pages' view.</summary>
    private void Publish()
    {
        var statuses = new Dictionary<(string, string), IReadOnlyList<InstanceStatus>>();
        foreach (var runtime in _deployments.Values)
        {
            var routes = runtime.Instances.Select(i => new InstanceRoute(i.Id, i.Index, i.Address, i.Phase == InstancePhase.Ready)).ToList();
            table.SetInstances(runtime.Endpoint, runtime.Deployment, routes);
            statuses[(runtime.Endpoint, runtime.Deployment)] = Describe(runtime);
        }

        lock (_view)
        {
            _statuses = statuses;
        }
    }

    private List<InstanceStatus> Describe(DeploymentRuntime runtime)
    {
        var now = Clock;
        var list = runtime.Instances.Select(i =>
        {
            var slot = runtime.Slot(i.Generation, i.Index);
            return new InstanceStatus(i.Index, i.Generation, i.Phase.ToString(), i.Pid, i.Port, i.StartedAt, i.ReadyAt, slot.Restarts, slot.LastExitCode, i.Problem, i.LastProbeAt);
        }).ToList();
        // Slots waiting to restart have no process: show them too, so a crash loop is visible.
        foreach (var ((generation, index), slot) in runtime.Slots)
        {
            if (slot.RestartAt is { } at && generation == runtime.Spec.Generation && runtime.Instances.All(i => i.Index != index || i.Generation != generation))
            {
                var wait = Math.Max(0, (at - now).TotalSeconds);
                list.Add(new InstanceStatus(index, generation, "Restarting", null, 0, at, null, slot.Restarts, slot.LastExitCode,
                    $"{slot.LastExit} Restarting in {wait:0} s{(slot.CrashLoop ? " (crash loop)" : "")}.", null));
            }
        }

        return [.. list.OrderBy(s => s.Index).ThenByDescending(s => s.Generation)];
    }

    private static bool Alive(InstanceRuntime instance) =>
        instance.Process is { } process ? !process.HasExited : ProcessGroup.IsAlive(instance.Pid, instance.ProcessStartedAt);

    public override void Dispose()
    {
        _wake.Dispose();
        _probes.Dispose();
        base.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "The model server supervisor's loop failed; it carries on")]
    private partial void LogLoopFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model server {Endpoint}/{Deployment}#{Index} (generation {Generation}) started as process {Pid} on port {Port}")]
    private partial void LogStarted(string endpoint, string deployment, int index, int generation, int pid, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model server {Endpoint}/{Deployment}#{Index} re-attached to process {Pid} on port {Port}")]
    private partial void LogReattached(string endpoint, string deployment, int index, int pid, int port);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Model server {Endpoint}/{Deployment}#{Index} exited: {Reason}")]
    private partial void LogExited(string endpoint, string deployment, int index, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping model server {Endpoint}/{Deployment}#{Index}: {Why}")]
    private partial void LogStopping(string endpoint, string deployment, int index, string why);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Deployment {Endpoint}/{Deployment} cannot run: {Reason}")]
    private partial void LogCannotRun(string endpoint, string deployment, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deployment {Endpoint}/{Deployment} is {State}: {Reason}")]
    private partial void LogHealth(string endpoint, string deployment, DeploymentState state, string? reason);
}
