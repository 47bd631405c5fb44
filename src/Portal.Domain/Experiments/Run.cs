using Portal.Domain.Common;

namespace Portal.Domain.Experiments;

/// <summary>
/// One training run: params (write-once), tags, status and the latest value of each metric. The metric
/// series themselves are append-only rows (<see cref="MetricPoint"/>), stored apart for scale.
/// A finished run is immutable except its tags and name.
/// </summary>
public sealed class Run : Entity
{
    private Run()
    {
    }

    /// <summary>32 lower-case hex digits, as MLflow run ids.</summary>
    public string Id { get; private set; } = "";

    public long ExperimentId { get; private set; }

    public string Name { get; private set; } = "";

    public string UserId { get; private set; } = "";

    public RunStatus Status { get; private set; }

    public DateTime StartTime { get; private set; }

    public DateTime? EndTime { get; private set; }

    public DateTime? HeartbeatAt { get; private set; }

    public IReadOnlyDictionary<string, string> Params { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    public IReadOnlyDictionary<string, string> Tags { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The latest point of each metric (highest step, then latest time), for tables and sorting.</summary>
    public IReadOnlyDictionary<string, LatestMetric> Metrics { get; private set; } = new Dictionary<string, LatestMetric>(StringComparer.Ordinal);

    /// <summary>Dataset versions the run read (<c>dataset:{name}:{version}</c>), in the order given.</summary>
    public IReadOnlyList<string> Inputs { get; private set; } = [];

    /// <summary>MLflow's convention for sweeps and nested runs.</summary>
    public string? ParentRunId => Tags.GetValueOrDefault(TrackingRules.ParentRunTag);

    public static Run Start(long experimentId, string? name, Actor actor, DateTime? startTime, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        CheckName(name);

        var id = Guid.NewGuid().ToString("N");
        var now = time.UtcNow();
        return new Run
        {
            Id = id,
            ExperimentId = experimentId,
            Name = string.IsNullOrWhiteSpace(name) ? $"run-{id[..8]}" : name.Trim(),
            UserId = actor.Name,
            Status = RunStatus.Running,
            StartTime = startTime ?? now,
            HeartbeatAt = now,
        };
    }

    /// <summary>Why <paramref name="name"/> cannot name a run, or null (empty names get a generated one).</summary>
    public static string? NameProblem(string? name)
    {
        if (name is { Length: > TrackingRules.MaxRunNameLength })
        {
            return $"Run name exceeds the maximum length of {TrackingRules.MaxRunNameLength} characters.";
        }

        // Free text, but one line of visible characters (no newline, NUL or look-alikes).
        return !string.IsNullOrWhiteSpace(name) && Names.FreeTextProblem(name.Trim(' '), "run_name", TrackingRules.MaxRunNameLength) is { } problem
            ? $"Invalid run name. {problem}"
            : null;
    }

    private static void CheckName(string? name)
    {
        if (NameProblem(name) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }
    }

    public void AddInput(string datasetRef)
    {
        if (!Inputs.Contains(datasetRef, StringComparer.Ordinal))
        {
            Inputs = [.. Inputs, datasetRef];
        }
    }

    /// <summary>The run's process or client is still there.</summary>
    public void Heartbeat(TimeProvider time) => HeartbeatAt = time.UtcNow();

    /// <summary>Params are write-once: the same value again is fine, another value is refused.</summary>
    public void LogParam(string? key, string? value)
    {
        RequireOpen("log parameters to");
        if (TrackingRules.KeyProblem(key, "key") is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        value ??= "";
        if (value.Length > TrackingRules.MaxParamValueLength)
        {
            throw TrackingException.Invalid($"Param value exceeds the maximum length of {TrackingRules.MaxParamValueLength} characters (got {value.Length}).");
        }

        if (Params.TryGetValue(key!, out var existing))
        {
            if (existing != value)
            {
                throw TrackingException.Invalid(
                    $"Changing param values is not allowed. Param with key='{key}' was already logged with value='{existing}' for run ID='{Id}'. Attempted logging new value '{value}'.");
            }

            return;
        }

        Params = Params.With(key!, value);
    }

    public void SetTag(string? key, string? value) => Tags = Tags.With(Experiment.CheckTag(key, value), value ?? "");

    public void DeleteTag(string? key)
    {
        if (key is null || !Tags.ContainsKey(key))
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"No tag with name: {key} in run with id {Id}");
        }

        Tags = Tags.Without(key);
    }

    /// <summary>Takes new points into the latest-metric summary; the points are stored by the caller.</summary>
    public void Observe(IEnumerable<MetricPoint> points, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(points);
        RequireOpen("log metrics to");
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var metrics = new Dictionary<string, LatestMetric>(Metrics, StringComparer.Ordinal);
        foreach (var p in points)
        {
            keys.Add(p.Key);
            if (!metrics.TryGetValue(p.Key, out var latest) || (p.Step, p.Timestamp).CompareTo((latest.Step, latest.Timestamp)) >= 0)
            {
                metrics[p.Key] = new LatestMetric(p.Value, p.Step, p.Timestamp);
            }
        }

        Metrics = metrics;

        HeartbeatAt = time.UtcNow();
        if (keys.Count > 0)
        {
            Raise(new MetricsLogged(Id, ExperimentId, [.. keys], HeartbeatAt.Value));
        }
    }

    /// <summary>
    /// Moves the run to <paramref name="status"/>. A terminal run only reopens as RUNNING (MLflow's resume);
    /// reaching a terminal state sets the end time.
    /// </summary>
    public void Update(RunStatus? status, DateTime? endTime, string? name, TimeProvider time)
    {
        if (name is not null)
        {
            CheckName(name);
            Name = name.Trim().Length == 0 ? Name : name.Trim();
        }

        if (status is not { } next || next == Status)
        {
            return;
        }

        if (Status.IsTerminal() && next != RunStatus.Running)
        {
            throw new TrackingException(TrackingError.InvalidState,
                $"Run '{Id}' has already ended as {Status.Wire()}; it cannot become {next.Wire()}.");
        }

        if (Status.IsTerminal())
        {
            // MLflow's resume (mlflow.start_run(run_id=…)): the run is open again, to log a model after training.
            // What a registered version bound (metrics, artifact digest) is kept with the version, not read back.
            EndTime = null;
        }

        Status = next;
        if (next.IsTerminal())
        {
            EndTime = endTime ?? time.UtcNow();
        }

        HeartbeatAt = time.UtcNow();
        Raise(new RunStatusChanged(Id, ExperimentId, Status, HeartbeatAt.Value));
    }

    /// <summary>A run whose process and heartbeats are gone: FAILED, with the reason as a tag.</summary>
    public void MarkLost(string reason, TimeProvider time)
    {
        if (Status.IsTerminal())
        {
            return;
        }

        Status = RunStatus.Failed;
        EndTime = time.UtcNow();
        Tags = Tags.With(TrackingRules.FailureTag, reason);
        Raise(new RunStatusChanged(Id, ExperimentId, Status, EndTime.Value));
    }

    private void RequireOpen(string action)
    {
        if (Status.IsTerminal())
        {
            throw new TrackingException(TrackingError.InvalidState,
                $"Run '{Id}' has ended ({Status.Wire()}); cannot {action} it. A finished run keeps its record; only tags can change.");
        }
    }
}

public sealed record RunStatusChanged(string RunId, long ExperimentId, RunStatus Status, DateTime OccurredAt) : IRunEvent
{
    public string Subject => $"run:{RunId}";
}

/// <summary>New points of <paramref name="Keys"/> were stored for a run; live charts fetch them.</summary>
public sealed record MetricsLogged(string RunId, long ExperimentId, IReadOnlyList<string> Keys, DateTime OccurredAt) : IRunEvent
{
    public string Subject => $"run:{RunId}";
}

/// <summary>The latest value of one metric of a run.</summary>
public sealed record LatestMetric(double Value, long Step, long Timestamp);
