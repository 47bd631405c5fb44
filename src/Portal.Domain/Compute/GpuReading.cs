namespace Portal.Domain.Compute;

/// <summary>
/// One GPU (or MIG instance) at one moment, as a source reported it, before it is attributed to anyone.
/// Missing values stay null: nvidia-smi and the DCGM exporter both leave fields out (MIG utilisation,
/// unsupported power readings), and a gap must never be read as zero.
/// </summary>
public sealed record GpuReading
{
    /// <summary>The GPU's UUID (<c>GPU-…</c>); with MIG, the parent GPU's UUID.</summary>
    public required string Uuid { get; init; }

    /// <summary>The MIG instance (DCGM's <c>GPU_I_ID</c>); null for a whole GPU.</summary>
    public string? MigInstance { get; init; }

    /// <summary>The MIG profile (DCGM's <c>GPU_I_PROFILE</c>, e.g. <c>1g.10gb</c>).</summary>
    public string? MigProfile { get; init; }

    public int? Index { get; init; }

    public string? Name { get; init; }

    /// <summary>When it was read, UTC.</summary>
    public DateTime Time { get; init; }

    /// <summary>Busy fraction, 0–1 (DCGM's engine-active ratio, or nvidia-smi's utilisation ÷ 100).</summary>
    public double? Busy { get; init; }

    public double? MemoryUsedMiB { get; init; }

    public double? MemoryTotalMiB { get; init; }

    public double? PowerW { get; init; }

    /// <summary>DCGM's energy counter (joules since boot); a counter, not a rate.</summary>
    public double? EnergyCounterJ { get; init; }

    public double? TemperatureC { get; init; }

    /// <summary>The host a DCGM line names (<c>Hostname</c>/<c>hostname</c>); null: the batch's host.</summary>
    public string? Host { get; init; }

    /// <summary>What DCGM attributed it to (<c>hpc_job</c>): a run id, job id or <c>endpoint/deployment</c>.</summary>
    public string? Job { get; init; }

    /// <summary>The Kubernetes pod DCGM attributed it to (<c>namespace/pod</c>), when it runs under Kubernetes.</summary>
    public string? Pod { get; init; }

    /// <summary>The line of the body it came from (the first line of its metric for DCGM), for error messages.</summary>
    public int Line { get; init; }

    /// <summary>What tells one device from another on a host: the UUID, plus the MIG instance.</summary>
    public string DeviceKey => MigInstance is null ? Uuid : $"{Uuid}/{MigInstance}";
}

/// <summary>A process using a GPU (<c>nvidia-smi --query-compute-apps</c>).</summary>
public sealed record GpuProcess(string GpuUuid, int Pid, string ProcessName, double? UsedMemoryMiB, int Line);

/// <summary>What one read of one source gave: the GPUs of one host and the processes on them.</summary>
public sealed record TelemetryBatch(string Host, string Source, IReadOnlyList<GpuReading> Readings, IReadOnlyList<GpuProcess> Processes)
{
    public static TelemetryBatch Empty(string host, string source) => new(host, source, [], []);
}

/// <summary>
/// Where GPU readings come from (an nvidia-smi poller, a DCGM exporter scrape). The ingestion path treats
/// every source the same; pushed bodies take the same path without a source object.
/// </summary>
public interface ITelemetrySource
{
    /// <summary>For logs and the Compute page ("nvidia-smi", "dcgm http://node-1:9400/metrics").</summary>
    string Name { get; }

    TimeSpan Interval { get; }

    /// <summary>False when the source cannot work here (no nvidia-smi): it is then never read.</summary>
    bool Available { get; }

    Task<IReadOnlyList<TelemetryBatch>> ReadAsync(CancellationToken cancellationToken);
}
