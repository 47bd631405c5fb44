using System.ComponentModel.DataAnnotations;

namespace Portal.Infrastructure.Configuration;

/// <summary>The <c>Portal:Telemetry</c> section: where GPU readings come from and how long they are kept.</summary>
public sealed class TelemetryOptions
{
    /// <summary>Poll <c>nvidia-smi</c> on this machine when it is installed.</summary>
    public bool NvidiaSmi { get; set; } = true;

    [Required]
    public string NvidiaSmiPath { get; set; } = "nvidia-smi";

    [Range(1, 3600)]
    public double NvidiaSmiIntervalSeconds { get; set; } = 10;

    /// <summary>DCGM exporter metrics URLs to scrape (its default is <c>http://HOST:9400/metrics</c>).</summary>
    public List<string> DcgmUrls { get; set; } = [];

    [Range(1, 3600)]
    public double DcgmIntervalSeconds { get; set; } = 30;

    /// <summary>
    /// The DCGM exporter's <c>--hpc-job-mapping-dir</c> on this machine: the portal writes one file per GPU that
    /// a local job is using, holding the job's run id, so the exporter labels those GPUs' samples itself.
    /// </summary>
    public string? DcgmJobMappingDir { get; set; }

    /// <summary>The compute kind (price card) of this machine's GPUs.</summary>
    [Required]
    public string Compute { get; set; } = "local";

    /// <summary>Host name → compute kind (price card) for hosts that push or are scraped.</summary>
    public Dictionary<string, string> HostCompute { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Raw samples are kept this long; 1-minute rollups longer, 1-hour rollups for good.</summary>
    [Range(1, 24 * 90)]
    public int RawRetentionHours { get; set; } = 24;

    [Range(1, 3660)]
    public int MinuteRetentionDays { get; set; } = 30;

    /// <summary>Largest pushed telemetry body; larger ones are refused whole (413).</summary>
    [Range(1, 1024)]
    public int MaxBodyMegabytes { get; set; } = 10;

    /// <summary>Readings older than this are refused (a clock years off, an old file sent by mistake).</summary>
    [Range(1, 3660)]
    public int MaxSampleAgeDays { get; set; } = 30;

    /// <summary>Readings further ahead of the portal's clock than this are refused.</summary>
    [Range(0, 86400)]
    public int MaxFutureSeconds { get; set; } = 300;

    /// <summary>A reading stands for the time since the device's previous one, at most this long (a gap is not usage).</summary>
    [Range(1, 3600)]
    public double MaxGapSeconds { get; set; } = 60;

    /// <summary>Accept readings from GPUs the portal has not seen before; false: only known UUIDs.</summary>
    public bool AcceptNewDevices { get; set; } = true;

    /// <summary>An allocation is idle while its GPU is busier than this share (0–1) less of the time…</summary>
    [Range(0, 1)]
    public double IdleBusyBelow { get; set; } = 0.05;

    /// <summary>…for longer than this many minutes.</summary>
    [Range(1, 7 * 24 * 60)]
    public int IdleWindowMinutes { get; set; } = 30;

    /// <summary>Cancel a training job whose GPUs have been idle this long (null: never; the default).</summary>
    [Range(1, 30 * 24 * 60)]
    public int? CancelIdleJobsAfterMinutes { get; set; }

    /// <summary>How often readings are rolled up, attributed costs refreshed and idle and budgets checked.</summary>
    [Range(1, 3600)]
    public double RollupIntervalSeconds { get; set; } = 10;

    public long MaxBodyBytes => MaxBodyMegabytes * 1024L * 1024;

    /// <summary>The compute kind of <paramref name="host"/>.</summary>
    public string ComputeOf(string host) => HostCompute.TryGetValue(host, out var compute) ? compute : Compute;
}

/// <summary>The <c>Portal:Cost</c> section.</summary>
public sealed class CostOptions
{
    /// <summary>The currency every price card, budget and cost is kept in (ISO 4217).</summary>
    [Required, RegularExpression("^[A-Z]{3}$")]
    public string Currency { get; set; } = "USD";

    /// <summary>Largest cost export accepted for reconciliation.</summary>
    [Range(1, 1024)]
    public int MaxImportMegabytes { get; set; } = 50;
}
