using Portal.Domain.Common;

namespace Portal.Domain.Jobs;

/// <summary>The states api.md names for a job. The last three are final.</summary>
public enum JobStatus
{
    Queued,
    Running,
    Completed,
    Failed,
    Canceled,
}

public static class JobStatuses
{
    public static bool IsFinal(this JobStatus status) => status is JobStatus.Completed or JobStatus.Failed or JobStatus.Canceled;
}

/// <summary>
/// A piece of work the portal runs for someone: a command in its own folder, with dataset inputs and
/// params, tied to the tracking run it reports to. Owns its state moves and refuses the rest.
/// </summary>
public sealed class Job : Entity
{
    public const int MaxCommandLength = 4000;

    private Job()
    {
    }

    /// <summary>"job-" and 12 hex digits: short enough to read out, unique enough for one portal.</summary>
    public string Id { get; private set; } = "";

    public string RunId { get; private set; } = "";

    public long ExperimentId { get; private set; }

    public string Command { get; private set; } = "";

    /// <summary>Folder under docs/samples (or the data folder's code area) copied into the run folder, if any.</summary>
    public string? CodePath { get; private set; }

    /// <summary>Input name → dataset reference (<c>dataset:{name}:{version}</c>).</summary>
    public IReadOnlyDictionary<string, string> Inputs { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Params { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>Variables the job's definition adds to the environment it runs with (never the portal's own).</summary>
    public IReadOnlyDictionary<string, string> Environment { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Work the portal itself starts (a model version's evaluation): it belongs to no person, so only an
    /// administrator may cancel it.
    /// </summary>
    public bool IsSystem { get; private set; }

    public string Compute { get; private set; } = "local";

    public string SubmittedBy { get; private set; } = "";

    public DateTime SubmittedAt { get; private set; }

    public JobStatus Status { get; private set; }

    public DateTime? StartedAt { get; private set; }

    public DateTime? EndedAt { get; private set; }

    public int? ExitCode { get; private set; }

    /// <summary>Why a job failed or was canceled, in words ("timed out after 00:10:00", "lost", "canceled by alice").</summary>
    public string? Reason { get; private set; }

    /// <summary>The operating-system process while running, and when it started (pids are reused).</summary>
    public int? ProcessId { get; private set; }

    public DateTime? ProcessStartedAt { get; private set; }

    public TimeSpan Timeout { get; private set; }

    /// <summary>The sweep this job is a trial of, if any.</summary>
    public string? SweepId { get; private set; }

    public bool CancelRequested { get; private set; }

    public static Job Submit(string runId, long experimentId, string command, string? codePath,
        IReadOnlyDictionary<string, string> inputs, IReadOnlyDictionary<string, string> parameters,
        TimeSpan timeout, Actor actor, TimeProvider time, string? sweepId = null,
        IReadOnlyDictionary<string, string>? environment = null, bool isSystem = false)
    {
        ArgumentNullException.ThrowIfNull(actor);
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(parameters);
        if (string.IsNullOrWhiteSpace(command))
        {
            throw new DomainException("command: enter the command to run, e.g. 'python3 train.py'.");
        }

        if (command.Length > MaxCommandLength)
        {
            throw new DomainException($"command: at most {MaxCommandLength} characters (got {command.Length}).");
        }

        var job = new Job
        {
            Id = $"job-{Guid.NewGuid():N}"[..16],
            RunId = runId,
            ExperimentId = experimentId,
            Command = command.Trim(),
            CodePath = codePath,
            Inputs = new Dictionary<string, string>(inputs, StringComparer.Ordinal),
            Params = new Dictionary<string, string>(parameters, StringComparer.Ordinal),
            SubmittedBy = actor.Name,
            SubmittedAt = time.UtcNow(),
            Status = JobStatus.Queued,
            Timeout = timeout,
            SweepId = sweepId,
            Environment = new Dictionary<string, string>(environment ?? new Dictionary<string, string>(), StringComparer.Ordinal),
            IsSystem = isSystem,
        };
        job.Raise(new JobStatusChanged(job.Id, job.RunId, job.ExperimentId, job.Status, null, job.SubmittedAt));
        return job;
    }

    public void Started(int processId, DateTime processStartedAt, TimeProvider time)
    {
        if (Status != JobStatus.Queued)
        {
            throw new DomainException($"Job {Id} is {Status}; only a queued job can start.");
        }

        Status = JobStatus.Running;
        ProcessId = processId;
        ProcessStartedAt = processStartedAt;
        StartedAt = time.UtcNow();
        Raise(new JobStatusChanged(Id, RunId, ExperimentId, Status, null, StartedAt.Value));
    }

    /// <summary>
    /// Asks the job to stop. A queued job is canceled at once; a running one is canceled when its process
    /// is gone (the runner calls <see cref="Ended"/>). Returns false when the job had already finished.
    /// </summary>
    public bool RequestCancel(Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (CancelRefusal(actor) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        if (Status.IsFinal())
        {
            return false;
        }

        CancelRequested = true;
        Reason = $"canceled by {actor.Name}";
        if (Status == JobStatus.Queued)
        {
            Finish(JobStatus.Canceled, null, Reason, time);
        }

        return true;
    }

    /// <summary>
    /// Why <paramref name="actor"/> may not cancel this job, or null when they may: a job is its submitter's
    /// (and any administrator's) to stop; the portal's own jobs are only an administrator's.
    /// </summary>
    public string? CancelRefusal(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (actor.IsIn(Identity.Roles.Admin) || actor == Actor.System)
        {
            return null;
        }

        if (IsSystem)
        {
            return $"Job {Id} is the portal's own ({Command}); only an administrator can cancel it.";
        }

        return actor.Name == SubmittedBy && actor.IsIn(Identity.Roles.DataScientist)
            ? null
            : $"Job {Id} was submitted by {SubmittedBy}; only they or an administrator can cancel it.";
    }

    /// <summary>The process is gone: Completed on exit 0, Canceled if someone asked, otherwise Failed.</summary>
    public void Ended(int? exitCode, string? reason, TimeProvider time)
    {
        if (Status.IsFinal())
        {
            return;
        }

        var status = CancelRequested ? JobStatus.Canceled
            : exitCode == 0 && reason is null ? JobStatus.Completed
            : JobStatus.Failed;
        Finish(status, exitCode, reason ?? (status == JobStatus.Failed ? $"exit code {exitCode}" : Reason), time);
    }

    /// <summary>The job could not start (missing command, missing input): Failed with the reason.</summary>
    public void FailedToStart(string reason, TimeProvider time)
    {
        if (Status.IsFinal())
        {
            return;
        }

        Finish(JobStatus.Failed, null, reason, time);
    }

    private void Finish(JobStatus status, int? exitCode, string? reason, TimeProvider time)
    {
        Status = status;
        ExitCode = exitCode;
        Reason = reason;
        EndedAt = time.UtcNow();
        ProcessId = null;
        Raise(new JobStatusChanged(Id, RunId, ExperimentId, Status, reason, EndedAt.Value));
    }
}

public sealed record JobStatusChanged(string JobId, string RunId, long ExperimentId, JobStatus Status, string? Reason, DateTime OccurredAt) : Experiments.IRunEvent
{
    public string Subject => $"job:{JobId}";
}

/// <summary>A running job's log grew; live log views read the new part.</summary>
public sealed record JobLogGrew(string JobId, string RunId, long Length, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"run:{RunId}";
}
