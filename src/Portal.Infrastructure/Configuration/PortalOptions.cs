using System.ComponentModel.DataAnnotations;

namespace Portal.Infrastructure.Configuration;

/// <summary>The <c>Portal</c> section of appsettings.json.</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>
    /// Folder for the SQLite database, artifacts, run folders and keys. A relative path is resolved
    /// against the repository root when run from a clone, otherwise against the application folder.
    /// </summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    public DemoOptions Demo { get; set; } = new();

    public LocalBackendOptions Local { get; set; } = new();

    public DatasetOptions Datasets { get; set; } = new();

    public JobOptions Jobs { get; set; } = new();

    public ModelOptions Models { get; set; } = new();

    public IsolationOptions Isolation { get; set; } = new();

    public LineageOptions Lineage { get; set; } = new();

    public DeploymentOptions Deployments { get; set; } = new();

    public TelemetryOptions Telemetry { get; set; } = new();

    public CostOptions Cost { get; set; } = new();
}

/// <summary>The <c>Portal:Lineage</c> section: how much one OpenLineage event from another system may carry.</summary>
public sealed class LineageOptions
{
    /// <summary>Largest OpenLineage event body accepted (413 beyond).</summary>
    [Range(1, 64 * 1024)]
    public int MaxEventKilobytes { get; set; } = 1024;

    /// <summary>Most inputs, and most outputs, one event may name (400 beyond).</summary>
    [Range(1, 100_000)]
    public int MaxDatasetsPerEvent { get; set; } = 1000;

    public long MaxEventBytes => MaxEventKilobytes * 1024L;
}

/// <summary>
/// The <c>Portal:Isolation</c> section: how work run on behalf of people (training jobs, model servers) is
/// kept away from the portal's data folder, database, keys and configuration.
/// </summary>
public sealed class IsolationOptions
{
    /// <summary>
    /// Operating-system account that jobs run as, created on first start when the portal runs as root.
    /// Empty: jobs run as the portal's own user (then only the sandbox keeps them from its files).
    /// </summary>
    [MaxLength(32)]
    public string? User { get; set; } = "mlops-job";

    /// <summary>Folder holding the jobs' working folders; outside the data folder. Default: /var/tmp/mlops-portal-&lt;hash&gt;.</summary>
    public string? WorkRoot { get; set; }

    /// <summary>Auto: bubblewrap when it is installed and works here; Bubblewrap: required; None: never.</summary>
    public SandboxMode Sandbox { get; set; } = SandboxMode.Auto;

    /// <summary>The bubblewrap program (Debian package <c>bubblewrap</c>).</summary>
    [Required]
    public string Bubblewrap { get; set; } = "/usr/bin/bwrap";

    /// <summary>More folders to hide from jobs, besides the data folder, the work root and the portal's own folders.</summary>
    public List<string> HiddenPaths { get; set; } = [];
}

public enum SandboxMode
{
    Auto,
    Bubblewrap,
    None,
}

/// <summary>The <c>Portal:Jobs</c> section: how the local backend runs jobs.</summary>
public sealed class JobOptions
{
    /// <summary>Jobs running at once; the rest wait in the queue.</summary>
    [Range(1, 64)]
    public int MaxConcurrent { get; set; } = 2;

    /// <summary>A job still running after this long is stopped and marked Failed.</summary>
    [Range(0.05, 7 * 24 * 60)]
    public double DefaultTimeoutMinutes { get; set; } = 120;

    /// <summary>Log kept per job; what a job writes beyond it is dropped (the log says how much).</summary>
    [Range(1, 1024)]
    public int MaxLogMegabytes { get; set; } = 10;

    /// <summary>A RUNNING run with no heartbeat (no logging, no live job) for this long becomes FAILED ("lost").</summary>
    [Range(0.05, 7 * 24 * 60)]
    public double RunHeartbeatTimeoutMinutes { get; set; } = 60;

    /// <summary>Folder that a job's <c>codePath</c> is relative to; relative paths resolve like DataDirectory.</summary>
    [Required]
    public string CodeRoot { get; set; } = "./docs/samples";

    /// <summary>Where jobs reach the portal's tracking API; default: the portal's own first HTTP address.</summary>
    public string? TrackingUri { get; set; }

    public long MaxLogBytes => (long)MaxLogMegabytes * 1024 * 1024;
}

/// <summary>
/// How new model versions are checked until an Admin saves defaults on the Policies page (which then win).
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Run metric → lowest acceptable value (highest for names ending in loss, rmse, mae or error).</summary>
    public Dictionary<string, double> RequiredMetrics { get; set; } = new(StringComparer.Ordinal) { ["val_auc"] = 0.6 };

    /// <summary>Dataset (its newest version that passed validation, or a pinned <c>name:version</c> that passed) the candidate and the champion are scored on.</summary>
    public string HoldoutDataset { get; set; } = "credit-risk-holdout";

    public string Target { get; set; } = "defaulted";

    /// <summary>auc, accuracy, rmse, mae or r2.</summary>
    public string Metric { get; set; } = "auc";

    /// <summary>How much worse than the champion the candidate may be on the holdout metric.</summary>
    public double Margin { get; set; } = 0.02;

    /// <summary>Category column scored slice by slice (e.g. a sensitive attribute); empty for none.</summary>
    public string? SliceColumn { get; set; } = "employment";

    /// <summary>Largest allowed difference of the metric between two slices.</summary>
    public double MaxSliceGap { get; set; } = 0.25;

    /// <summary>Slices with fewer holdout rows are shown but left out of the gap.</summary>
    public int MinSliceRows { get; set; } = Portal.Domain.Models.ValidationSettings.DefaultMinSliceRows;

    /// <summary>Minutes an evaluation job may run.</summary>
    public double EvaluationTimeoutMinutes { get; set; } = 30;

    /// <summary>
    /// Aliases (and MLflow's <c>models:/name@alias</c> URIs) that only an approved or deployed version may
    /// hold; any other alias is free. Compared without regard to case.
    /// </summary>
    public List<string> ProtectedAliases { get; set; } = ["champion", "production"];

    public Portal.Domain.Models.ValidationSettings ToSettings() =>
        new(RequiredMetrics, HoldoutDataset, Target, Metric, Margin, string.IsNullOrWhiteSpace(SliceColumn) ? null : SliceColumn, MaxSliceGap, MinSliceRows);
}

public sealed class DatasetOptions
{
    /// <summary>Largest dataset file accepted, in MiB.</summary>
    [Range(1, 1024 * 1024)]
    public int MaxUploadMegabytes { get; set; } = 1024;

    public long MaxUploadBytes => (long)MaxUploadMegabytes * 1024 * 1024;
}

public sealed class DemoOptions
{
    /// <summary>Seed demo users and data on first start of an empty data folder.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Password of every demo user; generated and printed once when unset.</summary>
    public string? Password { get; set; }

    /// <summary>Runs in the generated "credit-risk-history" experiment, to show the runs table at scale.</summary>
    [Range(0, 1_000_000)]
    public int GeneratedRuns { get; set; } = 10_000;

    /// <summary>Run the sample training projects as real jobs, so the demo has runs with logs and models.</summary>
    public bool RunSamples { get; set; } = true;

    /// <summary>
    /// A simulated GPU fleet (2 hosts × 8 GPUs, labelled as sample data) with a week of history and live readings,
    /// sent through the same ingestion path as real telemetry, so the Compute &amp; GPU and Cost pages have something to show.
    /// </summary>
    public bool SimulatedFleet { get; set; } = true;
}

public sealed class LocalBackendOptions : IValidatableObject
{
    /// <summary>Interpreter for Python jobs. Debian's has scikit-learn and pandas; pyenv shims may not.</summary>
    [Required]
    public string Python { get; set; } = "/usr/bin/python3";

    /// <summary>
    /// Folders put on the module path (<c>PYTHONPATH</c>) of jobs and model servers, for packages the interpreter
    /// lacks: an unpacked MLflow, say, which models saved with <c>mlflow.pyfunc.save_model(python_model=…)</c> load
    /// through. A job that sets its own <c>PYTHONPATH</c> keeps it.
    /// </summary>
    public List<string> PythonPath { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var folder in PythonPath)
        {
            if (string.IsNullOrWhiteSpace(folder) || !Path.IsPathFullyQualified(folder) || folder.Contains(':', StringComparison.Ordinal))
            {
                yield return new ValidationResult($"'{folder}' is not an absolute folder without ':' (each entry is one folder).", [nameof(PythonPath)]);
            }
        }
    }
}

/// <summary>The <c>Auth:Lockout</c> section: how many wrong passwords lock an account, and for how long.</summary>
public sealed class AccountLockoutOptions
{
    public const string Section = "Auth:Lockout";

    [Range(1, 100)]
    public int MaxFailedAttempts { get; set; } = 5;

    [Range(0.01, 24 * 60)]
    public double Minutes { get; set; } = 15;
}

/// <summary>The <c>Database</c> section: which engine holds the portal's state.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (embedded default) or <c>PostgreSQL</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite defaults to <c>portal.db</c> in the data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long a write waits for another writer's lock (SQLite busy timeout, PostgreSQL lock_timeout)
    /// before the request is answered 503 with Retry-After and background work tries again later.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(1, 600)]
    public int BusyTimeoutSeconds { get; set; } = 30;
}

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}
