using System.Net;
using System.Net.Sockets;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>
/// Readiness and liveness probes (Azure ML's): an instance takes traffic once its readiness probe passes, leaves
/// rotation when it fails too often, and is restarted when its liveness probe does.
/// </summary>
public sealed partial class ModelServerSupervisor
{
    private void StartProbes(DeploymentRuntime runtime, DateTime now)
    {
        foreach (var instance in runtime.Instances)
        {
            if (instance.ProbeInFlight || instance.Phase is InstancePhase.Stopping or InstancePhase.Exited)
            {
                continue;
            }

            if (now >= instance.NextReadiness)
            {
                var probe = runtime.Spec.Readiness;
                instance.NextReadiness = now.AddSeconds(probe.PeriodSeconds);
                instance.ProbeInFlight = true;
                _ = ProbeAsync(instance, "health/ready", probe.TimeoutSeconds, (ok, problem, at) => Readiness(runtime, instance, ok, problem, at));
            }
            else if (now >= instance.NextLiveness)
            {
                var probe = runtime.Spec.Liveness;
                instance.NextLiveness = now.AddSeconds(probe.PeriodSeconds);
                instance.ProbeInFlight = true;
                _ = ProbeAsync(instance, "health/live", probe.TimeoutSeconds, (ok, problem, at) => Liveness(runtime, instance, ok, problem, at));
            }
        }
    }

    private async Task ProbeAsync(InstanceRuntime instance, string path, int timeoutSeconds, Action<bool, string?, DateTime> apply)
    {
        bool ok;
        string? problem;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(timeoutSeconds));
        try
        {
            using var response = await _probes.GetAsync(new Uri(instance.Address, path), timeout.Token);
            ok = response.StatusCode == HttpStatusCode.OK;
            problem = ok ? null : $"answered {(int)response.StatusCode}";
        }
        catch (OperationCanceledException)
        {
            ok = false;
            problem = $"did not answer within {timeoutSeconds} s";
        }
        catch (HttpRequestException e)
        {
            ok = false;
            problem = e.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused } ? "refused the connection" : $"failed ({e.Message})";
        }

        var at = Clock;
        _probeResults.Enqueue(() => apply(ok, problem, at));
    }

    private void Readiness(DeploymentRuntime runtime, InstanceRuntime instance, bool ok, string? problem, DateTime at)
    {
        instance.ProbeInFlight = false;
        if (!runtime.Instances.Contains(instance) || instance.Phase is InstancePhase.Stopping or InstancePhase.Exited)
        {
            return;
        }

        var probe = runtime.Spec.Readiness;
        instance.LastProbeAt = at;
        if (ok)
        {
            instance.ReadinessFailures = 0;
            instance.ReadinessSuccesses++;
            if (instance.Phase != InstancePhase.Ready && instance.ReadinessSuccesses >= probe.SuccessThreshold)
            {
                instance.Phase = InstancePhase.Ready;
                instance.ReadyAt ??= at;
                instance.Problem = null;
                instance.RequestSucceeded();
            }

            // Steady for a while after restarts: the back-off starts over.
            var slot = runtime.Slot(instance.Generation, instance.Index);
            if (instance.ReadyAt is { } ready && at - ready > TimeSpan.FromMinutes(2) && slot.Exits.Count > 0)
            {
                slot.Exits.Clear();
                slot.CrashLoop = false;
            }

            return;
        }

        instance.ReadinessSuccesses = 0;
        instance.ReadinessFailures++;
        instance.LastProbeProblem = problem;
        if (instance.Phase == InstancePhase.Ready && instance.ReadinessFailures >= probe.FailureThreshold)
        {
            instance.Phase = InstancePhase.NotReady;
            instance.Problem = $"Instance {instance.Index} is not ready: its readiness probe {problem}, {instance.ReadinessFailures} times in a row.";
        }
        else if (instance.Phase == InstancePhase.Starting && at - instance.StartedAt > probe.GiveUpAfter)
        {
            instance.Problem = $"Instance {instance.Index} is not ready {probe.GiveUpAfter.TotalSeconds:0} s after it started (its readiness probe {problem}); it may hang while loading its model.";
        }
    }

    private void Liveness(DeploymentRuntime runtime, InstanceRuntime instance, bool ok, string? problem, DateTime at)
    {
        instance.ProbeInFlight = false;
        if (!runtime.Instances.Contains(instance) || instance.Phase is InstancePhase.Stopping or InstancePhase.Exited)
        {
            return;
        }

        instance.LastProbeAt = at;
        if (ok)
        {
            instance.LivenessFailures = 0;
            return;
        }

        instance.LivenessFailures++;
        if (instance.LivenessFailures >= runtime.Spec.Liveness.FailureThreshold)
        {
            Kill(instance, $"its liveness probe {problem}, {instance.LivenessFailures} times in a row");
        }
    }
}
