using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Models;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>What a deployment's instances add up to, told to its endpoint; and deployments taken down.</summary>
public sealed partial class ModelServerSupervisor
{
    /// <summary>
    /// The deployment's health from its instances. Healthy when every instance is ready (or some are: the
    /// reason then says what the others do); Unhealthy when none is ready and something is wrong (a crash
    /// loop, an instance that never became ready, one taken out or dead after serving), with the last log
    /// lines; still Creating or Updating while instances start normally.
    /// </summary>
    internal (DeploymentState State, string? Reason) Derive(DeploymentRuntime runtime)
    {
        var spec = runtime.Spec;
        if (runtime.FailedReason is { } failed && runtime.FailedGeneration == spec.Generation)
        {
            return (DeploymentState.Failed, failed);
        }

        var generation = spec.Generation;
        var current = runtime.Instances.Where(i => i.Generation == generation && i.Phase != InstancePhase.Stopping).ToList();
        var readyCurrent = current.Count(i => i.Phase == InstancePhase.Ready);
        var readyAll = runtime.Instances.Count(i => i.Phase == InstancePhase.Ready);
        var problem = FirstProblem(runtime, out var serious);
        if (readyCurrent >= spec.InstanceCount)
        {
            return (DeploymentState.Healthy, null);
        }

        if (readyAll > 0)
        {
            return runtime.Reported == DeploymentState.Updating
                ? (DeploymentState.Updating, $"{readyCurrent} of {spec.InstanceCount} instances with the new settings are ready; the previous ones serve meanwhile.")
                : (DeploymentState.Healthy, $"{readyAll} of {spec.InstanceCount} instances ready. {problem}".TrimEnd());
        }

        if (serious || runtime.Reported is not (DeploymentState.Creating or DeploymentState.Updating))
        {
            return (DeploymentState.Unhealthy, problem ?? "No instance is ready.");
        }

        return (runtime.Reported.Value, problem is null
            ? $"Starting {spec.InstanceCount} instance{(spec.InstanceCount == 1 ? "" : "s")}."
            : $"Starting {spec.InstanceCount} instance{(spec.InstanceCount == 1 ? "" : "s")}. {problem}");
    }

    /// <summary>The most telling problem of the current generation's instances; <paramref name="serious"/> when it makes the deployment unhealthy even while starting.</summary>
    private string? FirstProblem(DeploymentRuntime runtime, out bool serious)
    {
        serious = false;
        var generation = runtime.Spec.Generation;
        foreach (var ((slotGeneration, index), slot) in runtime.Slots.OrderBy(s => s.Key.Index))
        {
            if (slotGeneration == generation && slot.CrashLoop && index < runtime.Spec.InstanceCount)
            {
                serious = true;
                return $"Crash loop: instance {index} ended {slot.Exits.Count} times within {options.Value.Deployments.CrashLoopWindowMinutes} minutes. {slot.LastExit}{LastLines(slot.LastLog)}";
            }
        }

        foreach (var instance in runtime.Instances.Where(i => i.Generation == generation && i.Problem is not null).OrderBy(i => i.Index))
        {
            serious = true;
            return $"{instance.Problem}{LastLines(InstanceLog.LastLines(instance.LogFile))}";
        }

        foreach (var ((slotGeneration, index), slot) in runtime.Slots.OrderBy(s => s.Key.Index))
        {
            if (slotGeneration == generation && slot.RestartAt is not null && index < runtime.Spec.InstanceCount)
            {
                return $"{slot.LastExit} It is being restarted.{LastLines(slot.LastLog)}";
            }
        }

        return null;
    }

    private static string LastLines(string? log) => string.IsNullOrWhiteSpace(log) ? "" : $" Last log lines:\n{log}";

    /// <summary>Tells the endpoint when the deployment's health changed; true when the routes need rebuilding.</summary>
    private async Task<bool> ReportAsync(DeploymentRuntime runtime, CancellationToken cancellationToken)
    {
        var (state, reason) = Derive(runtime);
        if (state == runtime.Reported && reason == runtime.ReportedReason)
        {
            return false;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Name == runtime.Endpoint, cancellationToken);
        var deployment = endpoint?.Find(runtime.Deployment);
        if (endpoint is null || deployment is null || deployment.State == DeploymentState.Deleting)
        {
            _syncWanted = true;
            return false;
        }

        var from = deployment.State;
        if (deployment.Generation != runtime.Spec.Generation)
        {
            // Settings changed since the last sync; judge the new generation first.
            _syncWanted = true;
            return false;
        }

        endpoint.ReportHealth(runtime.Deployment, state, reason, time);
        if (from != state)
        {
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.DeploymentHealthChanged, $"deployment:{runtime.Endpoint}:{runtime.Deployment}", time,
                before: $"state={from}", after: $"state={state}", reason: reason is null ? null : Shorten(reason)));
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateConcurrencyException)
        {
            _syncWanted = true;
            return false;
        }

        runtime.Reported = state;
        runtime.ReportedReason = reason;
        metrics.Health(runtime.Endpoint, runtime.Deployment, state == DeploymentState.Healthy);
        if (from != state)
        {
            LogHealth(runtime.Endpoint, runtime.Deployment, state, reason);
        }

        return from != state;
    }

    /// <summary>Stops a deleted deployment's instances; once they are gone it is forgotten, and its model version leaves Deployed if nothing else serves it.</summary>
    private async Task<bool> RemoveAsync(DeploymentRuntime runtime, DateTime now, CancellationToken cancellationToken)
    {
        foreach (var instance in runtime.Instances.Where(i => i.Phase != InstancePhase.Stopping).ToList())
        {
            Stop(instance, "its deployment is being deleted");
        }

        await WatchAsync(runtime, now, cancellationToken);
        if (runtime.Instances.Count > 0)
        {
            return false;
        }

        await DatabaseErrors.RetryAsync(async () =>
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var endpoint = await db.Endpoints.FirstOrDefaultAsync(e => e.Name == runtime.Endpoint, cancellationToken);
            if (endpoint?.Find(runtime.Deployment) is { State: DeploymentState.Deleting })
            {
                var removed = endpoint.ForgetDeployment(runtime.Deployment);
                var others = await db.Endpoints.AsNoTracking().Where(e => e.Id != endpoint.Id).ToListAsync(cancellationToken);
                var stillServed = endpoint.Deployments.Concat(others.SelectMany(e => e.Deployments))
                    .Any(d => d.ModelName == removed.ModelName && d.ModelVersion == removed.ModelVersion);
                if (!stillServed && await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == removed.ModelName && v.Version == removed.ModelVersion, cancellationToken) is { State: ModelState.Deployed } version)
                {
                    var from = version.State;
                    version.Undeploy(time);
                    ModelValidation.AuditStateChange(db, version, from, Actor.System, time);
                }

                await db.ModelServerInstances.Where(i => i.Endpoint == runtime.Endpoint && i.Deployment == runtime.Deployment).ExecuteDeleteAsync(cancellationToken);
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.DeploymentHealthChanged, $"deployment:{runtime.Endpoint}:{runtime.Deployment}", time,
                    before: "state=Deleting", after: "removed: its instances stopped"));
                await db.SaveChangesAsync(cancellationToken);
            }

            return true;
        }, logger, $"Removing deployment {runtime.Endpoint}/{runtime.Deployment}", cancellationToken);

        _deployments.Remove((runtime.Endpoint, runtime.Deployment));
        try
        {
            Directory.Delete(LogFolderOf(runtime.Endpoint, runtime.Deployment), recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        return true;
    }

    private static string Shorten(string text) => text.Length <= 1000 ? text : text[..1000] + "…";
}
