namespace Portal.Infrastructure.Compute;

/// <summary>A GPU (or MIG instance) the portal has had readings from.</summary>
public sealed class GpuDevice
{
    public int Id { get; set; }

    public string Host { get; set; } = "";

    /// <summary>UUID, plus <c>/GPU_I_ID</c> for a MIG instance.</summary>
    public string DeviceKey { get; set; } = "";

    public string Uuid { get; set; } = "";

    public string? MigProfile { get; set; }

    public int? Index { get; set; }

    public string? Name { get; set; }

    public double? MemoryTotalMiB { get; set; }

    /// <summary>Compute kind (price card) its time is charged at.</summary>
    public string Compute { get; set; } = "local";

    /// <summary>Readings come from the demo's simulated fleet, not real hardware.</summary>
    public bool Simulated { get; set; }

    public DateTime FirstSeen { get; set; }

    public DateTime LastSeen { get; set; }

    /// <summary>Time of the newest stored reading (Unix ms): older ones are duplicates and skipped.</summary>
    public long LastSampleMs { get; set; }

    public double? LastEnergyCounterJ { get; set; }

    /// <summary>Who the newest reading was attributed to ("" for nobody).</summary>
    public string LastOwner { get; set; } = "";

    /// <summary>The newest reading's values, for the fleet table and gauges.</summary>
    public double? LastBusy { get; set; }

    public double? LastMemoryUsedMiB { get; set; }

    public double? LastPowerW { get; set; }

    public double? LastTemperatureC { get; set; }

    public string Label => $"{Host} #{Index?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}{(MigProfile is null ? "" : $" {MigProfile}")}";
}

/// <summary>
/// One raw reading, stored compactly (integers in fixed units, times as Unix milliseconds): kept for
/// <c>RawRetentionHours</c>, then only its rollups remain.
/// </summary>
public sealed class GpuSampleRow
{
    public long Id { get; set; }

    public int DeviceId { get; set; }

    public long Time { get; set; }

    /// <summary>How long this reading stands for, ms (time since the device's previous reading, capped).</summary>
    public int DurationMs { get; set; }

    /// <summary>Busy, per mille (0–1000).</summary>
    public short? BusyPermille { get; set; }

    public int? MemoryUsedMiB { get; set; }

    /// <summary>Power, tenths of a watt.</summary>
    public int? PowerDeciW { get; set; }

    /// <summary>Energy used over <see cref="DurationMs"/>, joules.</summary>
    public int? EnergyJ { get; set; }

    public short? TemperatureC { get; set; }

    /// <summary>Who it is charged to (<see cref="Portal.Domain.Compute.UsageOwner"/>'s key; "" for nobody).</summary>
    public string Owner { get; set; } = "";
}

/// <summary>What a device did over one bucket for one owner; sums so buckets roll up by adding.</summary>
public abstract class GpuRollup
{
    public int DeviceId { get; set; }

    /// <summary>Start of the bucket, Unix ms.</summary>
    public long Bucket { get; set; }

    public string Owner { get; set; } = "";

    public int Samples { get; set; }

    public double Seconds { get; set; }

    public double BusySeconds { get; set; }

    /// <summary>Seconds whose busy share was known (MIG and some GPUs report none).</summary>
    public double BusyKnownSeconds { get; set; }

    public double MemoryMiBSeconds { get; set; }

    public double EnergyJ { get; set; }

    public double? MaxTemperatureC { get; set; }

    public double? MaxPowerW { get; set; }
}

public sealed class GpuMinute : GpuRollup;

public sealed class GpuHour : GpuRollup;

/// <summary>
/// Compute an owner used in one bucket on one compute kind: GPU time from readings, compute time measured
/// from the owner's processes. Costs are priced from these at query time, so a corrected price card
/// re-prices history without recomputing anything.
/// </summary>
public abstract class UsageBucket
{
    /// <summary>Start of the bucket, Unix ms.</summary>
    public long Start { get; set; }

    public string Owner { get; set; } = "";

    public string Compute { get; set; } = "";

    public double GpuSeconds { get; set; }

    public double BusyGpuSeconds { get; set; }

    public double BusyKnownSeconds { get; set; }

    public double MemoryMiBSeconds { get; set; }

    public double EnergyJ { get; set; }

    /// <summary>Seconds the owner's processes were alive (CPU jobs and model servers).</summary>
    public double ComputeSeconds { get; set; }
}

/// <summary>An owner's use in one hour (the edges of a period, and short periods, are priced from these).</summary>
public sealed class UsageHour : UsageBucket;

/// <summary>An owner's use in one day (whole days of long periods are priced from these: a year is 365 rows per owner).</summary>
public sealed class UsageDay : UsageBucket;

/// <summary>Who an owner is, captured when its first usage is seen: the team then is the team charged.</summary>
public sealed class UsageOwnerRow
{
    public string Owner { get; set; } = "";

    public Portal.Domain.Compute.UsageKind Kind { get; set; }

    public string Label { get; set; } = "";

    public string? User { get; set; }

    public string? Team { get; set; }

    public string? Experiment { get; set; }

    public string? Endpoint { get; set; }

    public string? Deployment { get; set; }

    /// <summary>The registered model it trained (filled in when a version names this run) or serves.</summary>
    public string? Model { get; set; }

    public DateTime FirstSeen { get; set; }
}

/// <summary>A stretch of minutes in which a device held by an owner stayed under the idle threshold.</summary>
public sealed class IdleStretch
{
    public Guid Id { get; set; }

    public int DeviceId { get; set; }

    public string Owner { get; set; } = "";

    public DateTime StartedAt { get; set; }

    /// <summary>Start of the newest idle minute in the stretch.</summary>
    public DateTime LastMinute { get; set; }

    public double IdleSeconds { get; set; }

    public double MeanBusy { get; set; }

    /// <summary>Longer than the idle window: it counts as waste and has an alert.</summary>
    public bool Flagged { get; set; }

    public bool Ended { get; set; }

    public Guid? AlertId { get; set; }

    public bool JobCanceled { get; set; }

    /// <summary>The idle seconds that fall between <paramref name="from"/> and <paramref name="to"/> (spread evenly over the stretch).</summary>
    public double IdleSecondsWithin(DateTime from, DateTime to)
    {
        var end = LastMinute.AddMinutes(1);
        var length = (end - StartedAt).TotalSeconds;
        var overlap = ((end < to ? end : to) - (StartedAt > from ? StartedAt : from)).TotalSeconds;
        return length <= 0 || overlap <= 0 ? 0 : IdleSeconds * Math.Min(overlap / length, 1);
    }
}

/// <summary>Progress markers of the telemetry worker (the newest sample rolled up, the newest minute checked for idleness).</summary>
public sealed class TelemetryCursor
{
    public string Name { get; set; } = "";

    public long Value { get; set; }
}

/// <summary>An imported Azure Cost Management export.</summary>
public sealed class CostImport
{
    public Guid Id { get; set; }

    public string FileName { get; set; } = "";

    /// <summary>EA, MCA or FOCUS.</summary>
    public string Format { get; set; } = "";

    public string Currency { get; set; } = "";

    public int Rows { get; set; }

    public decimal Total { get; set; }

    public DateTime PeriodStart { get; set; }

    public DateTime PeriodEnd { get; set; }

    public string ImportedBy { get; set; } = "";

    public DateTime ImportedAt { get; set; }

    public List<CostImportLine> Lines { get; set; } = [];
}

/// <summary>One resource's actual cost on one day, as the export said.</summary>
public sealed class CostImportLine
{
    public long Id { get; set; }

    public Guid ImportId { get; set; }

    public DateTime Date { get; set; }

    public string ResourceId { get; set; } = "";

    public string? Endpoint { get; set; }

    public string? Deployment { get; set; }

    public string? Meter { get; set; }

    public decimal Cost { get; set; }
}
