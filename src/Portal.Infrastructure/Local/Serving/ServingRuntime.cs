using System.Diagnostics;
using Portal.Domain.Deployments;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>Where an instance is in its life.</summary>
internal enum InstancePhase
{
    /// <summary>Started; not ready yet (loading its model, or never answering its readiness probe).</summary>
    Starting,
    Ready,

    /// <summary>Was ready, then failed its readiness probe, or was taken out after failing requests.</summary>
    NotReady,

    /// <summary>Its process ended; a new one starts after the back-off.</summary>
    Exited,

    /// <summary>Being stopped on purpose (deleted, scaled down, replaced).</summary>
    Stopping,
}

/// <summary>One model server process and what the supervisor knows of it. Touched by the supervisor's loop only, except where it says.</summary>
internal sealed class InstanceRuntime
{
    private readonly Lock _gate = new();
    private int _requestFailures;
    private string? _ejectFor;

    public required Guid Id { get; init; }

    public required string Endpoint { get; init; }

    public required string Deployment { get; init; }

    public required int Index { get; init; }

    public required int Generation { get; init; }

    public required int Pid { get; init; }

    public Process? Process { get; init; }

    public required DateTime ProcessStartedAt { get; init; }

    public required int Port { get; init; }

    public required string WorkFolder { get; init; }

    public required string LogFile { get; init; }

    public required string ExitFile { get; init; }

    public required DateTime StartedAt { get; init; }

    public bool Reattached { get; init; }

    public Uri Address => new($"http://127.0.0.1:{Port}/");

    public InstancePhase Phase { get; set; } = InstancePhase.Starting;

    public DateTime? ReadyAt { get; set; }

    public DateTime NextReadiness { get; set; }

    public DateTime NextLiveness { get; set; }

    public DateTime? LastProbeAt { get; set; }

    public bool ProbeInFlight { get; set; }

    public int ReadinessFailures { get; set; }

    public int ReadinessSuccesses { get; set; }

    public int LivenessFailures { get; set; }

    public string? LastProbeProblem { get; set; }

    /// <summary>What is wrong with it now, for people.</summary>
    public string? Problem { get; set; }

    public DateTime? StopRequestedAt { get; set; }

    /// <summary>Why the supervisor stops it (the exit is then expected, or counted as a restart when it is a kill for cause).</summary>
    public string? KilledFor { get; set; }

    /// <summary>The gateway's view: a request went through (called on request threads).</summary>
    public void RequestSucceeded()
    {
        lock (_gate)
        {
            _requestFailures = 0;
        }
    }

    /// <summary>The gateway's view: a request timed out, was refused or got garbage. Returns true when the instance should be taken out.</summary>
    public bool RequestFailed(string problem, int limit)
    {
        lock (_gate)
        {
            _requestFailures++;
            if (_requestFailures >= limit && _ejectFor is null)
            {
                _ejectFor = $"{_requestFailures} requests in a row: it {problem}";
                return true;
            }

            return false;
        }
    }

    /// <summary>Why the gateway wants it out, once; null when it does not.</summary>
    public string? TakeEjection()
    {
        lock (_gate)
        {
            var reason = _ejectFor;
            _ejectFor = null;
            if (reason is not null)
            {
                _requestFailures = 0;
            }

            return reason;
        }
    }
}

/// <summary>Restart history of one instance slot (index), across the processes that filled it.</summary>
internal sealed class SlotHistory
{
    public List<DateTime> Exits { get; } = [];

    public int Restarts { get; set; }

    public DateTime? RestartAt { get; set; }

    public int? LastExitCode { get; set; }

    public string? LastExit { get; set; }

    /// <summary>The instance's last log lines when it exited.</summary>
    public string? LastLog { get; set; }

    public bool CrashLoop { get; set; }
}

/// <summary>A deployment as the supervisor runs it: its settings from the database and its instances.</summary>
internal sealed class DeploymentRuntime(string endpoint, string deployment)
{
    public string Endpoint => endpoint;

    public string Deployment => deployment;

    public required Deployment Spec { get; set; }

    public List<InstanceRuntime> Instances { get; } = [];

    public Dictionary<(int Generation, int Index), SlotHistory> Slots { get; } = [];

    /// <summary>Why it cannot run at all (model bytes missing or altered, isolation unavailable).</summary>
    public string? FailedReason { get; set; }

    public int? FailedGeneration { get; set; }

    public DeploymentState? Reported { get; set; }

    public string? ReportedReason { get; set; }

    public SlotHistory Slot(int generation, int index)
    {
        if (!Slots.TryGetValue((generation, index), out var slot))
        {
            Slots[(generation, index)] = slot = new SlotHistory();
        }

        return slot;
    }
}
