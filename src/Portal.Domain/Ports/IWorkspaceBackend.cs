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
}

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
