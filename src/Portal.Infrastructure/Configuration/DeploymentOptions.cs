using System.ComponentModel.DataAnnotations;

namespace Portal.Infrastructure.Configuration;

/// <summary>
/// The <c>Portal:Deployments</c> section: how the local backend serves models, what the scoring gateway
/// accepts, and how deployments are monitored.
/// </summary>
public sealed class DeploymentOptions
{
    /// <summary>
    /// Most instances one deployment may run here. Each instance is a Python process holding the model; on a
    /// small machine more of them add memory, not throughput.
    /// </summary>
    [Range(1, 64)]
    public int MaxInstancesPerDeployment { get; set; } = 4;

    /// <summary>Largest scoring request body (413 beyond).</summary>
    [Range(1, 100 * 1024)]
    public int MaxRequestKilobytes { get; set; } = 1536;

    /// <summary>Most rows one scoring request may carry (400 beyond).</summary>
    [Range(1, 1_000_000)]
    public int MaxRowsPerRequest { get; set; } = 1000;

    /// <summary>Largest answer a model server may give; a bigger one is refused as garbage (502).</summary>
    [Range(1, 1024)]
    public int MaxResponseMegabytes { get; set; } = 16;

    /// <summary>Share of requests whose inputs and outputs are stored (sensitive columns redacted), 0–1.</summary>
    [Range(0.0, 1.0)]
    public double SampleRate { get; set; } = 0.1;

    /// <summary>Rows kept of each sampled request.</summary>
    [Range(1, 1000)]
    public int SampleRowsKept { get; set; } = 5;

    /// <summary>Stored samples kept per deployment; older ones are removed.</summary>
    [Range(100, 10_000_000)]
    public int SampleRetentionRows { get; set; } = 50_000;

    [Range(1, 3650)]
    public int SampleRetentionDays { get; set; } = 7;

    /// <summary>Per-minute scoring figures kept for charts.</summary>
    [Range(1, 3650)]
    public int MetricsRetentionDays { get; set; } = 30;

    /// <summary>Sliding window of live inputs that drift is computed over.</summary>
    [Range(1, 24 * 60)]
    public int DriftWindowMinutes { get; set; } = 15;

    /// <summary>Most rows the drift window holds per deployment (the newest are kept).</summary>
    [Range(100, 10_000_000)]
    public int DriftWindowMaxRows { get; set; } = 100_000;

    /// <summary>Below this many rows, drift is judged by KS and chi-square tests instead of distances.</summary>
    [Range(1, 100_000)]
    public int MinRowsForDistance { get; set; } = 200;

    /// <summary>Drift score above which a feature is reported as drifting (Azure ML's default 0.1).</summary>
    [Range(0.0001, 10)]
    public double DriftThreshold { get; set; } = 0.1;

    /// <summary>Mirrored requests waiting to be sent; beyond it they are dropped and counted.</summary>
    [Range(1, 1_000_000)]
    public int MirrorQueueCapacity { get; set; } = 1000;

    /// <summary>An instance that exited this many times within <see cref="CrashLoopWindowMinutes"/> is in a crash loop.</summary>
    [Range(1, 1000)]
    public int CrashLoopRestarts { get; set; } = 5;

    [Range(1, 24 * 60)]
    public int CrashLoopWindowMinutes { get; set; } = 10;

    /// <summary>Longest wait between restarts of an instance that keeps dying (the back-off doubles from 1 s).</summary>
    [Range(1, 3600)]
    public int MaxRestartBackoffSeconds { get; set; } = 60;

    /// <summary>Requests in a row an instance may time out on, refuse or answer garbage to before it is taken out and restarted.</summary>
    [Range(1, 1000)]
    public int EjectAfterFailures { get; set; } = 5;

    /// <summary>A model server whose portal has been gone this long stops by itself (the gateway is in the portal).</summary>
    [Range(5, 24 * 3600)]
    public int OrphanGraceSeconds { get; set; } = 120;

    /// <summary>Stop model servers when the portal stops; off by default so a quick restart re-attaches to them.</summary>
    public bool StopInstancesOnShutdown { get; set; }

    /// <summary>How often alert rules are evaluated.</summary>
    [Range(1, 3600)]
    public int AlertEvaluationSeconds { get; set; } = 10;

    public SampleTrafficOptions SampleTraffic { get; set; } = new();

    public long MaxRequestBytes => MaxRequestKilobytes * 1024L;
}

/// <summary>
/// The demo's traffic generator: realistic requests to the demo endpoint whose income drifts slowly, so its
/// charts, drift and an alert are alive. Labelled as sample traffic wherever it shows.
/// </summary>
public sealed class SampleTrafficOptions
{
    /// <summary>On in demo mode unless set; never on without demo data.</summary>
    public bool? Enabled { get; set; }

    [Range(0.1, 1000)]
    public double RequestsPerSecond { get; set; } = 4;

    /// <summary>How much applicants' income grows per hour of sample traffic (0.3 = 30 %), which is the drift the monitors find.</summary>
    [Range(0, 100)]
    public double IncomeDriftPerHour { get; set; } = 0.6;
}
