namespace Portal.Infrastructure.Persistence;

/// <summary>What a <see cref="RunSearchValue"/> holds.</summary>
public enum RunValueKind
{
    Metric = 1,
    Param = 2,
    Tag = 3,
}

/// <summary>
/// One metric (latest value), param or tag of a run, in rows so that runs can be filtered and ordered by
/// any of them with an index. Written with the run in the same transaction; the run's JSON stays the record.
/// </summary>
public sealed class RunSearchValue
{
    public string RunId { get; set; } = "";

    public long ExperimentId { get; set; }

    public RunValueKind Kind { get; set; }

    public string Key { get; set; } = "";

    /// <summary>Metric value (NaN stored as null, so it sorts last), or a param that reads as a number.</summary>
    public double? Number { get; set; }

    /// <summary>Param or tag value.</summary>
    public string? Text { get; set; }
}

/// <summary>
/// One stored metric point. NaN is kept as <see cref="IsNan"/> with value 0, because SQLite turns NaN into
/// NULL and NULLs would escape the dedupe key.
/// </summary>
public sealed class MetricPointRow
{
    public string RunId { get; set; } = "";

    public string Key { get; set; } = "";

    public long Step { get; set; }

    public long Timestamp { get; set; }

    public double Value { get; set; }

    public bool IsNan { get; set; }
}

/// <summary>A file a run produced (under <c>outputs/</c>, or uploaded through MLflow's artifact routes), stored by hash.</summary>
public sealed class RunArtifact
{
    public const int MaxPathLength = 1000;

    public string RunId { get; set; } = "";

    /// <summary>Relative, forward slashes, no <c>..</c>: <c>outputs/model.pkl</c>.</summary>
    public string Path { get; set; } = "";

    public long Size { get; set; }

    public string Hash { get; set; } = "";

    public DateTime CreatedAt { get; set; }
}

/// <summary>
/// A pre-aggregated bucket of a metric series: the first, last, lowest and highest point among the steps
/// <c>[Bucket &lt;&lt; 4·Level, (Bucket + 1) &lt;&lt; 4·Level)</c>. Kept up to date on every log-batch so a chart of a
/// million points reads a thousand rows. NaN points are left out (they are gaps).
/// </summary>
public sealed class MetricRollup
{
    /// <summary>Level k groups 16^k steps; levels 1 to 7 cover steps up to 268 million per bucket.</summary>
    public const int Levels = 7;

    public string RunId { get; set; } = "";

    public string Key { get; set; } = "";

    public int Level { get; set; }

    public long Bucket { get; set; }

    public long FirstStep { get; set; }

    public double FirstValue { get; set; }

    public long LastStep { get; set; }

    public double LastValue { get; set; }

    public long MinStep { get; set; }

    public double MinValue { get; set; }

    public long MaxStep { get; set; }

    public double MaxValue { get; set; }
}
