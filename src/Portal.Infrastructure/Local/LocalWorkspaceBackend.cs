using System.Diagnostics;
using Microsoft.Extensions.Options;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Local.Isolation;

namespace Portal.Infrastructure.Local;

/// <summary>
/// The embedded default backend: work runs as processes on this machine, isolated from the portal (see
/// <see cref="LocalJobRunner"/> and <see cref="ProcessIsolation"/>). This part also answers whether the machine can take work.
/// </summary>
public sealed class LocalWorkspaceBackend(DataDirectory data, IOptions<PortalOptions> options, TimeProvider time, LocalJobRunner runner, ProcessIsolation isolation,
    Serving.ModelServerSupervisor servers) : IWorkspaceBackend
{
    // On a machine busy training (demo seeding on 2 cores) importing scikit-learn can take many seconds.
    private static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(60);

    // How long a health request waits for a probe still running before answering without it.
    private static readonly TimeSpan ProbeWait = TimeSpan.FromSeconds(3);

    // Starting Python to import scikit-learn takes a second or two; health probes come every few seconds.
    private static readonly TimeSpan PythonProbeValidFor = TimeSpan.FromMinutes(5);
    private readonly Lock _probeGate = new();
    private (DateTimeOffset At, Task<string?> Probe)? _pythonProbe;

    public string Kind => "local";

    public Task SubmitAsync(string jobId, CancellationToken cancellationToken) => runner.SubmitAsync(jobId);

    public Task CancelAsync(string jobId, CancellationToken cancellationToken) => runner.CancelAsync(jobId);

    public Task<JobLogChunk> ReadLogAsync(string jobId, long offset, int maxBytes, CancellationToken cancellationToken) =>
        runner.ReadLogAsync(jobId, offset, maxBytes, cancellationToken);

    public Task ApplyEndpointAsync(string endpoint, CancellationToken cancellationToken)
    {
        servers.Wake();
        return Task.CompletedTask;
    }

    public Task<IReadOnlyList<InstanceStatus>> InstancesAsync(string endpoint, string deployment, CancellationToken cancellationToken) =>
        Task.FromResult(servers.StatusOf(endpoint, deployment));

    public Task<string> ReadInstanceLogAsync(string endpoint, string deployment, int instance, int maxBytes, CancellationToken cancellationToken) =>
        Task.FromResult(Serving.InstanceLog.Tail(Path.Combine(servers.LogFolderOf(endpoint, deployment), $"instance-{instance}.log"), maxBytes));

    public async Task<BackendHealth> CheckHealthAsync(CancellationToken cancellationToken)
    {
        var details = new Dictionary<string, string>();
        var state = isolation.State;
        details["isolation"] = state.Summary;
        details["workRoot"] = isolation.WorkRoot;
        if (!state.CanStart)
        {
            return new BackendHealth(BackendHealthStatus.Unhealthy, $"Jobs cannot start: {state.Problem}", details);
        }

        foreach (var folder in new[] { data.RunsFolder, data.ArtifactsFolder, isolation.WorkRoot })
        {
            var problem = CheckWritable(folder);
            details[Path.GetFileName(folder)] = problem ?? "writable";
            if (problem is not null)
            {
                return new BackendHealth(BackendHealthStatus.Unhealthy, problem, details);
            }
        }

        var python = options.Value.Local.Python;
        var pythonProblem = await PythonProblemAsync(python, cancellationToken);
        details["python"] = pythonProblem ?? python;
        if (pythonProblem is null && !state.Isolated)
        {
            // Everything runs, but a job could read the portal's keys and database: say so where operators look.
            return new BackendHealth(BackendHealthStatus.Degraded, $"Jobs run {state.Summary}: {state.Problem}", details);
        }

        return pythonProblem is null
            ? new BackendHealth(BackendHealthStatus.Healthy, state.Problem is null ? $"Local backend ready; jobs run {state.Summary}." : $"Local backend ready; jobs run {state.Summary} ({state.Problem})", details)
            // Jobs that are not Python still run, so the backend is degraded rather than down.
            : new BackendHealth(BackendHealthStatus.Degraded, pythonProblem, details);
    }

    /// <summary>
    /// What is wrong with the Python interpreter, or null. The probe runs on its own, not on the health
    /// request: a probe that has not answered yet is no evidence of a problem, so the request does not wait
    /// it out and say Degraded; the next request reports what it found.
    /// </summary>
    private async Task<string?> PythonProblemAsync(string python, CancellationToken cancellationToken)
    {
        Task<string?> probe;
        lock (_probeGate)
        {
            if (_pythonProbe is not { } last || (last.Probe.IsCompleted && time.GetUtcNow() - last.At > PythonProbeValidFor))
            {
                _pythonProbe = last = (time.GetUtcNow(), ProbePythonAsync(python, CancellationToken.None));
            }

            probe = last.Probe;
        }

        var answered = await Task.WhenAny(probe, Task.Delay(ProbeWait, time, cancellationToken));
        return answered == probe ? await probe : null;
    }

    private static string? CheckWritable(string folder)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var probe = Path.Combine(folder, $".probe-{Environment.ProcessId}-{Guid.NewGuid():N}");
            File.WriteAllText(probe, "ok");
            File.Delete(probe);
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return $"Folder {folder} is not writable: {ex.Message}";
        }
    }

    private static async Task<string?> ProbePythonAsync(string python, CancellationToken cancellationToken)
    {
        if (!File.Exists(python))
        {
            return $"Python interpreter {python} (Portal:Local:Python) does not exist; Python jobs cannot run.";
        }

        try
        {
            using var process = Process.Start(new ProcessStartInfo(python, ["-c", "import sklearn, pandas"])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(ProbeTimeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            return process.ExitCode == 0
                ? null
                : $"Python interpreter {python} lacks scikit-learn or pandas; install python3-sklearn and python3-pandas.";
        }
        catch (OperationCanceledException)
        {
            return $"Python interpreter {python} did not import scikit-learn and pandas within {ProbeTimeout.TotalSeconds:0} s.";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return $"Python interpreter {python} could not be started: {ex.Message}";
        }
    }
}
