using System.Globalization;
using System.Text;
using Portal.Domain.Compute;

namespace Portal.Infrastructure.Demo;

/// <summary>Who holds a simulated GPU: a demo run (by its name) or the demo deployment; null for nobody.</summary>
public sealed record SimulatedHolder(string RunName, string User, Func<double, double> Busy, double MemoryMiB, DateTime Since);

/// <summary>
/// The demo's GPU fleet: 2 hosts × 8 H100s, clearly sample data. It says what each GPU is doing at any moment
/// (deterministically, so the week of history and the live readings tell one story): a fine-tuning run keeps
/// host 1 busy, a pre-training run uses half of host 2 with a daily rhythm, a notebook holds two GPUs and does
/// nothing with them (the idle allocation), one GPU is free, and one serves the demo deployment.
/// </summary>
public static class SimulatedFleet
{
    public const string Experiment = "gpu-fleet-simulated";
    public const string Compute = "Standard_ND96isr_H100_v5";
    public const string Model = "NVIDIA H100 80GB HBM3";
    public const double MemoryTotalMiB = 81559;
    public const string FineTune = "llm-finetune (simulated)";
    public const string Pretrain = "vision-pretrain (simulated)";
    public const string Notebook = "notebook-exploration (simulated)";
    public const string Scientist = "scientist@demo.local";
    public const string Admin = "admin@demo.local";
    public static readonly string[] Hosts = ["sim-gpu-01", "sim-gpu-02"];

    public static string Uuid(int host, int index) => string.Create(CultureInfo.InvariantCulture, $"GPU-5eed{host:0000}-0000-4000-8000-{index:000000000000}");

    /// <summary>Who holds GPU <paramref name="index"/> of host <paramref name="host"/>, as of <paramref name="now"/>.</summary>
    public static SimulatedHolder? Holder(int host, int index, DateTime now)
    {
        var week = now.AddDays(-7);
        return (host, index) switch
        {
            (0, _) => new SimulatedHolder(FineTune, Scientist, t => 0.9 + 0.08 * Noise(host, index, t), 71_000, week.AddDays(2)),
            (1, < 4) => new SimulatedHolder(Pretrain, Admin, t => 0.45 + 0.3 * Math.Sin(t / 86_400 * 2 * Math.PI) + 0.1 * Noise(host, index, t), 64_000, week),
            (1, 4 or 5) => new SimulatedHolder(Notebook, Scientist, t => 0.01 * Noise(host, index, t), 30_500, now.AddDays(-2)),
            _ => null,
        };
    }

    /// <summary>The readings of every GPU at <paramref name="at"/>; <paramref name="deployment"/> is the hpc_job label of the demo deployment's GPU.</summary>
    public static IEnumerable<(int Host, GpuReading Reading)> Readings(DateTime at, DateTime now, IReadOnlyDictionary<string, string> runIds, string? deployment)
    {
        var seconds = (at - DateTime.UnixEpoch).TotalSeconds;
        for (var host = 0; host < Hosts.Length; host++)
        {
            for (var index = 0; index < 8; index++)
            {
                var holder = Holder(host, index, now);
                string? job = null;
                double busy, memory;
                if (holder is not null && at >= holder.Since && runIds.TryGetValue(holder.RunName, out var runId))
                {
                    job = runId;
                    busy = holder.Busy(seconds);
                    memory = holder.MemoryMiB + 500 * Noise(host, index + 20, seconds);
                }
                else if (host == 1 && index == 7 && deployment is not null)
                {
                    job = deployment;
                    busy = 0.12 + 0.2 * Math.Abs(Math.Sin(seconds / 1800)) + 0.05 * Noise(host, index, seconds);
                    memory = 6_200;
                }
                else
                {
                    busy = 0;
                    memory = 4;
                }

                busy = Math.Clamp(busy, 0, 1);
                yield return (host, new GpuReading
                {
                    Uuid = Uuid(host, index),
                    Index = index,
                    Name = Model,
                    Time = at,
                    Busy = Math.Round(busy, 4),
                    MemoryUsedMiB = Math.Round(memory),
                    MemoryTotalMiB = MemoryTotalMiB,
                    PowerW = Math.Round(69 + busy * 610 + 8 * Noise(host, index + 40, seconds), 1),
                    TemperatureC = Math.Round(31 + busy * 34),
                    Job = job,
                    Host = Hosts[host],
                    Line = host * 8 + index + 1,
                });
            }
        }
    }

    /// <summary>The readings written as the DCGM exporter writes them, so the live demo takes the scrape path.</summary>
    public static string AsDcgmText(IEnumerable<GpuReading> readings)
    {
        var list = readings.ToList();
        var text = new StringBuilder();
        void Metric(string name, string help, Func<GpuReading, double?> value)
        {
            text.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(" gauge\n");
            foreach (var r in list)
            {
                if (value(r) is not { } v)
                {
                    continue;
                }

                text.Append(name).Append("{gpu=\"").Append(r.Index).Append("\",UUID=\"").Append(r.Uuid).Append("\",device=\"nvidia").Append(r.Index)
                    .Append("\",modelName=\"").Append(r.Name).Append("\",Hostname=\"").Append(r.Host).Append('"');
                if (r.Job is not null)
                {
                    text.Append(",hpc_job=\"").Append(r.Job).Append('"');
                }

                text.Append("} ").Append(v.ToString("0.######", CultureInfo.InvariantCulture)).Append(' ')
                    .Append(((long)(r.Time - DateTime.UnixEpoch).TotalMilliseconds).ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }

        Metric("DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.", r => r.Busy);
        Metric("DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", r => r.MemoryUsedMiB);
        Metric("DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", r => r.MemoryTotalMiB - r.MemoryUsedMiB);
        Metric("DCGM_FI_DEV_POWER_USAGE", "Power draw (in W).", r => r.PowerW);
        Metric("DCGM_FI_DEV_GPU_TEMP", "GPU temperature (in C).", r => r.TemperatureC);
        return text.ToString();
    }

    /// <summary>Smooth-ish noise in [-1, 1] that depends only on the GPU and the minute.</summary>
    private static double Noise(int host, int index, double seconds)
    {
        var minute = (long)(seconds / 60);
        var hash = (uint)HashCode.Combine(host, index, minute);
        var next = (uint)HashCode.Combine(host, index, minute + 1);
        var f = seconds / 60 - minute;
        return ((hash / (double)uint.MaxValue) * (1 - f) + (next / (double)uint.MaxValue) * f) * 2 - 1;
    }
}
