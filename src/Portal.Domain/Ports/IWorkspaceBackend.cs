namespace Portal.Domain.Ports;

/// <summary>
/// Where work runs and models are served: the local machine by default, Azure Machine Learning for teams
/// that outgrow it. Jobs are submitted by id (the job record holds what to run); progress is observed as
/// domain events on the bus (JobStatusChanged, JobLogGrew) and in the job record.
/// </summary>
public interface IWorkspaceBackend
{
    /// <summary>A short name for people: "local", "azureml".</summary>
    string Kind { get; }

    /// <summary>Whether the backend can take work now, and if not, what is wrong in words an operator can act on.</summary>
    Task<BackendHealth> CheckHealthAsync(CancellationToken cancellationToken);

    /// <summary>Queues a saved, Queued job; it starts when the backend has room.</summary>
    Task SubmitAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Stops a job's processes (the whole tree). The job record says Canceled once they are gone.</summary>
    Task CancelAsync(string jobId, CancellationToken cancellationToken);

    /// <summary>Up to <paramref name="maxBytes"/> of a job's combined stdout/stderr from <paramref name="offset"/>.</summary>
    Task<JobLogChunk> ReadLogAsync(string jobId, long offset, int maxBytes, CancellationToken cancellationToken);

    /// <summary>
    /// Brings what serves an endpoint in line with its record (start, replace or stop instances); returns at
    /// once. Health comes back through the endpoint's deployments (<c>Endpoint.ReportHealth</c>).
    /// </summary>
    Task ApplyEndpointAsync(string endpoint, CancellationToken cancellationToken);

    /// <summary>The instances serving a deployment now.</summary>
    Task<IReadOnlyList<InstanceStatus>> InstancesAsync(string endpoint, string deployment, CancellationToken cancellationToken);

    /// <summary>The last <paramref name="maxBytes"/> of an instance's output.</summary>
    Task<string> ReadInstanceLogAsync(string endpoint, string deployment, int instance, int maxBytes, CancellationToken cancellationToken);
}

/// <summary>One instance of a deployment as the backend sees it.</summary>
/// <param name="State">Starting, Ready, NotReady, Restarting or Stopping.</param>
/// <param name="Problem">What is wrong with it, in words, with its last log lines where they help.</param>
public sealed record InstanceStatus(int Index, int Generation, string State, int? ProcessId, int Port, DateTime StartedAt, DateTime? ReadyAt,
    int Restarts, int? LastExitCode, string? Problem, DateTime? LastProbeAt);

public enum BackendHealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,
}

public sealed record BackendHealth(BackendHealthStatus Status, string Description, IReadOnlyDictionary<string, string> Details);

/// <param name="Text">The log text read (UTF-8; a split character at the end is left for the next read).</param>
/// <param name="NextOffset">Where the next read continues.</param>
/// <param name="Length">The log's length now.</param>
/// <param name="DroppedBytes">Bytes the job wrote beyond the log limit, which were not kept.</param>
public sealed record JobLogChunk(string Text, long NextOffset, long Length, long DroppedBytes);
