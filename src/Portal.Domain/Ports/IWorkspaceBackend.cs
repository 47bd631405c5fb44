namespace Portal.Domain.Ports;

/// <summary>
/// Where work runs and models are served: the local machine by default, Azure Machine Learning for teams
/// that outgrow it. Job and deployment operations join this port as those capabilities land.
/// </summary>
public interface IWorkspaceBackend
{
    /// <summary>A short name for people: "local", "azureml".</summary>
    string Kind { get; }

    /// <summary>Whether the backend can take work now, and if not, what is wrong in words an operator can act on.</summary>
    Task<BackendHealth> CheckHealthAsync(CancellationToken cancellationToken);
}

public enum BackendHealthStatus
{
    Healthy,
    Degraded,
    Unhealthy,
}

public sealed record BackendHealth(BackendHealthStatus Status, string Description, IReadOnlyDictionary<string, string> Details);
