namespace Portal.Domain.Experiments;

/// <summary>MLflow's run states; the last three are terminal.</summary>
public enum RunStatus
{
    Scheduled,
    Running,
    Finished,
    Failed,
    Killed,
}

public static class RunStatuses
{
    public static bool IsTerminal(this RunStatus status) => status is RunStatus.Finished or RunStatus.Failed or RunStatus.Killed;

    /// <summary>The upper-case name MLflow's JSON uses.</summary>
    public static string Wire(this RunStatus status) => status.ToString().ToUpperInvariant();

    public static bool TryParse(string? text, out RunStatus status) =>
        Enum.TryParse(text, ignoreCase: true, out status) && Enum.IsDefined(status) && !int.TryParse(text, out _);
}
