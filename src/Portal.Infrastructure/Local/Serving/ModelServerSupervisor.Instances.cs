using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Local.Isolation;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>Starting, watching and stopping instances.</summary>
public sealed partial class ModelServerSupervisor
{
    /// <summary>The model server's exit code when its port was taken between choosing and binding: not a crash.</summary>
    private const int BindFailed = 98;

    private async Task ReattachAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var rows = await db.ModelServerInstances.ToListAsync(cancellationToken);
        var endpoints = await db.Endpoints.AsNoTracking().ToListAsync(cancellationToken);
        var now = Clock;
        foreach (var row in rows)
        {
            var deployment = endpoints.FirstOrDefault(e => e.Name == row.Endpoint)?.Find(row.Deployment);
            var alive = row.Pid is { } pid && ProcessGroup.IsAlive(pid, row.ProcessStartedAt);
            if (deployment is null || deployment.State == DeploymentState.Deleting || deployment.Generation != row.Generation || !alive)
            {
                if (alive)
                {
                    ProcessGroup.Signal(row.Pid!.Value, ProcessGroup.SigKill);
                }

                ProcessIsolation.DeleteWorkFolder(row.WorkFolder);
                db.ModelServerInstances.Remove(row);
                continue;
            }

            var key = (row.Endpoint, row.Deployment);
            if (!_deployments.TryGetValue(key, out var runtime))
            {
                _deployments[key] = runtime = new DeploymentRuntime(row.Endpoint, row.Deployment) { Spec = deployment, Reported = deployment.State, ReportedReason = deployment.StateReason };
            }

            var logFolder = LogFolderOf(row.Endpoint, row.Deployment);
            var instance = new InstanceRuntime
            {
                Id = row.Id,
                Endpoint = row.Endpoint,
                Deployment = row.Deployment,
                Index = row.Index,
                Generation = row.Generation,
                Pid = row.Pid!.Value,
                ProcessStartedAt = row.ProcessStartedAt ?? row.StartedAt,
                Port = row.Port,
                WorkFolder = row.WorkFolder,
                LogFile = Path.Combine(logFolder, $"instance-{row.Index}.log"),
                ExitFile = Path.Combine(logFolder, $"instance-{row.Index}.exit"),
                StartedAt = row.StartedAt,
                Reattached = true,
                // A re-attached instance was serving a moment ago: ask it at once instead of waiting out an initial delay.
                NextReadiness = now,
                NextLiveness = now.AddSeconds(deployment.Liveness.PeriodSeconds),
            };
            runtime.Slot(row.Generation, row.Index).Restarts = row.Restarts;
            runtime.Instances.Add(instance);
            _byId[instance.Id] = instance;
            LogReattached(row.Endpoint, row.Deployment, row.Index, instance.Pid, instance.Port);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Handles ended processes and requests to take one out, then starts and stops instances to match the settings.</summary>
    private async Task<bool> ReconcileAsync(DeploymentRuntime runtime, DateTime now, CancellationToken cancellationToken)
    {
        var changed = await WatchAsync(runtime, now, cancellationToken);
        var spec = runtime.Spec;
        var generation = spec.Generation;
        if (runtime.FailedReason is not null && runtime.FailedGeneration == generation)
        {
            return changed;
        }

        for (var index = 0; index < spec.InstanceCount; index++)
        {
            if (runtime.Instances.Any(i => i.Index == index && i.Generation == generation && i.Phase != InstancePhase.Stopping))
            {
                continue;
            }

            var slot = runtime.Slot(generation, index);
            if (slot.RestartAt is { } at && now < at)
            {
                continue;
            }

            await StartAsync(runtime, index, now, cancellationToken);
            changed = true;
            if (runtime.FailedReason is not null)
            {
                return true;
            }
        }

        foreach (var instance in runtime.Instances.Where(i => i.Phase != InstancePhase.Stopping).ToList())
        {
            if (instance.Index >= spec.InstanceCount)
            {
                Stop(instance, "scaled down");
                changed = true;
            }
            else if (instance.Generation != generation
                     && (instance.Phase != InstancePhase.Ready || runtime.Instances.Any(i => i.Index == instance.Index && i.Generation == generation && i.Phase == InstancePhase.Ready)))
            {
                // Rolling replacement: the old instance serves until its successor is ready.
                Stop(instance, $"replaced by generation {generation}");
                changed = true;
            }
        }

        return changed;
    }

    /// <summary>Notices ended processes, instances the gateway wants out, and stops that take too long.</summary>
    private async Task<bool> WatchAsync(DeploymentRuntime runtime, DateTime now, CancellationToken cancellationToken)
    {
        var changed = false;
        foreach (var instance in runtime.Instances.ToList())
        {
            if (!Alive(instance))
            {
                await ExitedAsync(runtime, instance, now, cancellationToken);
                changed = true;
                continue;
            }

            if (instance.TakeEjection() is { } why && instance.Phase is InstancePhase.Ready or InstancePhase.Starting or InstancePhase.NotReady)
            {
                instance.Phase = InstancePhase.NotReady;
                instance.Problem = $"Instance {instance.Index} was taken out of service after {why}.";
                Kill(instance, $"taken out of service after {why}");
                changed = true;
            }
            else if (instance.Phase == InstancePhase.Stopping && instance.StopRequestedAt is { } asked && now - asked > KillGrace)
            {
                ProcessGroup.Signal(instance.Pid, ProcessGroup.SigKill);
            }
        }

        return changed;
    }

    private async Task ExitedAsync(DeploymentRuntime runtime, InstanceRuntime instance, DateTime now, CancellationToken cancellationToken)
    {
        int? code = null;
        if (instance.Process is { HasExited: true } process)
        {
            code = process.ExitCode;
        }
        else if (File.Exists(instance.ExitFile) && int.TryParse((await File.ReadAllTextAsync(instance.ExitFile, cancellationToken)).Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var written))
        {
            code = written;
        }

        // Whatever it left behind in its group goes too.
        ProcessGroup.Signal(instance.Pid, ProcessGroup.SigKill);
        instance.Process?.Dispose();
        runtime.Instances.Remove(instance);
        _byId.TryRemove(instance.Id, out _);
        await ForgetRowAsync(instance.Id, cancellationToken);
        ProcessIsolation.DeleteWorkFolder(instance.WorkFolder);
        var expected = instance.Phase == InstancePhase.Stopping && instance.KilledFor is null;
        if (expected)
        {
            return;
        }

        var slot = runtime.Slot(instance.Generation, instance.Index);
        if (code == BindFailed && instance.KilledFor is null)
        {
            slot.RestartAt = now;
            return;
        }

        var settings = options.Value.Deployments;
        slot.LastExitCode = code;
        slot.LastExit = instance.KilledFor is { } why
            ? $"Instance {instance.Index} was restarted: {why}."
            : $"Instance {instance.Index} exited with code {(code?.ToString(CultureInfo.InvariantCulture) ?? "unknown")}{(instance.ReadyAt is null ? " before it was ever ready" : "")}.";
        slot.Exits.Add(now);
        slot.Exits.RemoveAll(e => now - e > TimeSpan.FromMinutes(settings.CrashLoopWindowMinutes));
        slot.Restarts++;
        slot.CrashLoop = slot.Exits.Count >= settings.CrashLoopRestarts;
        var backoff = Math.Min(Math.Pow(2, slot.Exits.Count - 1), settings.MaxRestartBackoffSeconds);
        slot.RestartAt = now.AddSeconds(backoff);
        slot.LastLog = InstanceLog.LastLines(instance.LogFile);
        monitor.StatsOf(runtime.Endpoint, runtime.Deployment).RecordRestart(time.GetUtcNow().UtcDateTime);
        metrics.Restarted(runtime.Endpoint, runtime.Deployment);
        LogExited(runtime.Endpoint, runtime.Deployment, instance.Index, slot.LastExit);
    }

    private async Task StartAsync(DeploymentRuntime runtime, int index, DateTime now, CancellationToken cancellationToken)
    {
        var spec = runtime.Spec;
        var slot = runtime.Slot(spec.Generation, index);
        var folder = isolation.WorkFolderOf($"serve-{runtime.Endpoint}--{runtime.Deployment}-g{spec.Generation}-i{index}");
        try
        {
            folder = isolation.PrepareWorkFolder(Path.GetFileName(folder));
            var modelPath = await ModelFilesOfAsync(spec, folder, cancellationToken);
            await WriteServerAsync(folder, cancellationToken);
            await File.WriteAllTextAsync(Path.Combine(folder, ".portal-alive"), "", cancellationToken);
            var port = FreePort();
            var settings = options.Value;
            var environment = isolation.BaseEnvironment(folder);
            environment["PORT"] = port.ToString(CultureInfo.InvariantCulture);
            environment["MODEL_PATH"] = modelPath;
            environment["MAX_BODY_BYTES"] = settings.Deployments.MaxRequestBytes.ToString(CultureInfo.InvariantCulture);
            environment["ORPHAN_GRACE_SECONDS"] = settings.Deployments.OrphanGraceSeconds.ToString(CultureInfo.InvariantCulture);
            environment["PYTHONUNBUFFERED"] = "1";
            environment["PYTHONDONTWRITEBYTECODE"] = "1";
            ProcessIsolation.WriteEnvironment(folder, environment);
            isolation.HandOver(folder);

            var logFolder = LogFolderOf(runtime.Endpoint, runtime.Deployment);
            Directory.CreateDirectory(logFolder);
            var logFile = Path.Combine(logFolder, $"instance-{index}.log");
            var exitFile = Path.Combine(logFolder, $"instance-{index}.exit");
            File.Delete(exitFile);
            await File.AppendAllTextAsync(logFile,
                $"--- {now:yyyy-MM-dd HH:mm:ss} UTC: starting instance {index} of {runtime.Deployment} ({spec.ModelName} version {spec.ModelVersion}, generation {spec.Generation}) on port {port}\n",
                cancellationToken);
            var start = isolation.StartInfo(new SandboxedCommand(folder, $"exec {ProcessIsolation.ShellQuote(settings.Local.Python)} model_server.py", environment, logFile, exitFile));
            var process = Process.Start(start) ?? throw new InvalidOperationException("The process did not start.");
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // It ended already; its exit is read on the next tick.
            }

            var instance = new InstanceRuntime
            {
                Id = Guid.NewGuid(),
                Endpoint = runtime.Endpoint,
                Deployment = runtime.Deployment,
                Index = index,
                Generation = spec.Generation,
                Pid = process.Id,
                Process = process,
                ProcessStartedAt = ProcessGroup.StartTimeOf(process, now),
                Port = port,
                WorkFolder = folder,
                LogFile = logFile,
                ExitFile = exitFile,
                StartedAt = now,
                NextReadiness = now.AddSeconds(spec.Readiness.InitialDelaySeconds),
                NextLiveness = now.AddSeconds(spec.Liveness.InitialDelaySeconds),
            };
            runtime.Instances.Add(instance);
            _byId[instance.Id] = instance;
            slot.RestartAt = null;
            await RememberAsync(runtime, instance, slot.Restarts, cancellationToken);
            LogStarted(runtime.Endpoint, runtime.Deployment, index, spec.Generation, instance.Pid, port);
        }
        catch (ModelFilesException e)
        {
            ProcessIsolation.DeleteWorkFolder(folder);
            runtime.FailedReason = e.Message;
            runtime.FailedGeneration = spec.Generation;
            LogCannotRun(runtime.Endpoint, runtime.Deployment, e.Message);
        }
        catch (InvalidOperationException e) when (!isolation.State.CanStart)
        {
            ProcessIsolation.DeleteWorkFolder(folder);
            runtime.FailedReason = $"Model servers cannot start on this machine: {e.Message}";
            runtime.FailedGeneration = spec.Generation;
            LogCannotRun(runtime.Endpoint, runtime.Deployment, runtime.FailedReason);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            ProcessIsolation.DeleteWorkFolder(folder);
            slot.LastExit = $"Instance {index} could not be started: {e.Message}.";
            slot.Exits.Add(now);
            slot.RestartAt = now.AddSeconds(Math.Min(Math.Pow(2, slot.Exits.Count - 1), options.Value.Deployments.MaxRestartBackoffSeconds));
            LogExited(runtime.Endpoint, runtime.Deployment, index, slot.LastExit);
        }
    }

    /// <summary>Asks an instance to stop because it is no longer wanted (not counted as a failure).</summary>
    private void Stop(InstanceRuntime instance, string why)
    {
        LogStopping(instance.Endpoint, instance.Deployment, instance.Index, why);
        instance.Phase = InstancePhase.Stopping;
        instance.StopRequestedAt ??= Clock;
        ProcessGroup.Signal(instance.Pid, ProcessGroup.SigTerm);
    }

    /// <summary>Stops an instance for cause (liveness, taken out); it restarts as after a crash.</summary>
    private void Kill(InstanceRuntime instance, string why)
    {
        LogStopping(instance.Endpoint, instance.Deployment, instance.Index, why);
        instance.KilledFor = why;
        instance.Phase = InstancePhase.Stopping;
        instance.StopRequestedAt ??= Clock;
        ProcessGroup.Signal(instance.Pid, ProcessGroup.SigTerm);
    }

    private async Task RememberAsync(DeploymentRuntime runtime, InstanceRuntime instance, int restarts, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.ModelServerInstances.Where(i => i.Endpoint == runtime.Endpoint && i.Deployment == runtime.Deployment && i.Index == instance.Index && i.Generation == instance.Generation)
            .ExecuteDeleteAsync(cancellationToken);
        db.ModelServerInstances.Add(new ModelServerInstance
        {
            Id = instance.Id,
            Endpoint = runtime.Endpoint,
            Deployment = runtime.Deployment,
            Index = instance.Index,
            Generation = instance.Generation,
            Pid = instance.Pid,
            ProcessStartedAt = instance.ProcessStartedAt,
            Port = instance.Port,
            WorkFolder = instance.WorkFolder,
            StartedAt = instance.StartedAt,
            Restarts = restarts,
        });
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task ForgetRowAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.ModelServerInstances.Where(i => i.Id == id).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The approved model under <c>model/</c> of the instance's folder; the path the server loads (file or MLflow folder).</summary>
    private async Task<string> ModelFilesOfAsync(Deployment deployment, string folder, CancellationToken cancellationToken)
    {
        var version = await services.GetRequiredService<ModelRegistry>().FindVersionAsync(deployment.ModelName, deployment.ModelVersion, cancellationToken)
            ?? throw new ModelFilesException($"{deployment.ModelName} version {deployment.ModelVersion} no longer exists in the registry.");
        if (!string.Equals(version.ArtifactHash, deployment.ArtifactHash, StringComparison.OrdinalIgnoreCase))
        {
            throw new ModelFilesException($"{version.Label} is bound to {version.ArtifactHash[..12]}…, not to the {deployment.ArtifactHash[..12]}… that was deployed.");
        }

        return await ModelFiles.WriteAsync(services, version, Path.Combine(folder, "model"), fileName: null, cancellationToken);
    }

    private static async Task WriteServerAsync(string folder, CancellationToken cancellationToken)
    {
        await using var resource = typeof(ModelServerSupervisor).Assembly.GetManifestResourceStream("serving/model_server.py")
            ?? throw new InvalidOperationException("The model server script is missing from the build.");
        await using var file = File.Create(Path.Combine(folder, "model_server.py"));
        await resource.CopyToAsync(file, cancellationToken);
    }

    /// <summary>A free port on 127.0.0.1, chosen by the system; one taken meanwhile ends the server with code 98 and another is chosen.</summary>
    private int FreePort()
    {
        var used = _deployments.Values.SelectMany(d => d.Instances).Select(i => i.Port).ToHashSet();
        for (var attempt = 0; ; attempt++)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            if (!used.Contains(port) || attempt > 10)
            {
                return port;
            }
        }
    }
}
