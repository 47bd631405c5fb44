using Portal.Domain.Common;
using Portal.Infrastructure.Compute;

namespace Portal.UnitTests.Compute;

/// <summary>The readers of nvidia-smi's CSV and the DCGM exporter's text, on captures of their real formats.</summary>
public sealed class TelemetryParserTests
{
    private static readonly TimeZoneInfo Berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");

    internal static string Fixture(string name) => File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Compute", "Fixtures", name));

    [Fact]
    public void NvidiaSmiCsv_WithHeaderAndUnits_GivesEveryField_InUtc()
    {
        var readings = NvidiaSmiCsv.ParseGpus(Fixture("nvidia-smi-h100.csv"), Berlin);

        Assert.Equal(4, readings.Count);
        var first = readings[0];
        Assert.Equal("GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80", first.Uuid);
        Assert.Equal(0, first.Index);
        Assert.Equal("NVIDIA H100 80GB HBM3", first.Name);
        Assert.Equal(1.0, first.Busy);
        Assert.Equal(70592, first.MemoryUsedMiB);
        Assert.Equal(81559, first.MemoryTotalMiB);
        Assert.Equal(627.40, first.PowerW);
        Assert.Equal(61, first.TemperatureC);

        // 10:29:58.412 in Berlin (UTC+1 in November) is 09:29:58.412 UTC.
        Assert.Equal(new DateTime(2026, 11, 22, 9, 29, 58, 412, DateTimeKind.Utc), first.Time);
        Assert.Equal(0.98, readings[1].Busy);
        Assert.Equal(0.0, readings[2].Busy);
    }

    [Fact]
    public void NvidiaSmiCsv_NoHeaderNoUnits_ReadsTheSameAsWithThem()
    {
        var plain = NvidiaSmiCsv.ParseGpus(Fixture("nvidia-smi-noheader-nounits.csv"), Berlin);
        var withUnits = NvidiaSmiCsv.ParseGpus(Fixture("nvidia-smi-h100.csv"), Berlin).Take(2).ToList();

        Assert.Equal(withUnits.Select(r => (r.Uuid, r.Time, r.Busy, r.MemoryUsedMiB, r.MemoryTotalMiB, r.PowerW, r.TemperatureC)),
            plain.Select(r => (r.Uuid, r.Time, r.Busy, r.MemoryUsedMiB, r.MemoryTotalMiB, r.PowerW, r.TemperatureC)));
    }

    [Fact]
    public void NvidiaSmiCsv_MigAndMissingValues_AreGaps_NotZeros()
    {
        var readings = NvidiaSmiCsv.ParseGpus(Fixture("nvidia-smi-mig-and-missing.csv"), TimeZoneInfo.Utc);

        // MIG enabled: one row for the physical GPU, utilisation [N/A].
        Assert.Null(readings[0].Busy);
        Assert.Equal(19712, readings[0].MemoryUsedMiB);
        Assert.Null(readings[1].PowerW);
        Assert.Equal(0.37, readings[1].Busy);
        var denied = readings[2];
        Assert.Null(denied.Busy);
        Assert.Null(denied.MemoryUsedMiB);
        Assert.Equal(15360, denied.MemoryTotalMiB);
        Assert.Null(denied.PowerW);
        Assert.Null(denied.TemperatureC);
    }

    [Fact]
    public void ComputeApps_TakeTheProcessNameFromBetweenTheEnds_SoCommasInItStay()
    {
        var processes = NvidiaSmiCsv.ParseApps(Fixture("nvidia-smi-apps.csv"));

        Assert.Equal(3, processes.Count);
        Assert.Equal(48212, processes[1].Pid);
        Assert.Equal("python train.py --lr 0.1,0.01 --name a,b", processes[1].ProcessName);
        Assert.Equal(70578, processes[1].UsedMemoryMiB);
        Assert.Null(processes[2].UsedMemoryMiB);
        Assert.Empty(NvidiaSmiCsv.ParseApps(Fixture("nvidia-smi-apps-none.csv")));
    }

    [Fact]
    public void Dcgm_PrefersEngineActiveOverTheOutdatedUtil_AndKeepsLabels()
    {
        var readings = DcgmText.Parse(Fixture("dcgm-exporter.txt"), new DateTime(2026, 11, 22, 9, 30, 0, DateTimeKind.Utc));

        Assert.Equal(2, readings.Count);
        var busy = readings.Single(r => r.Index == 0);
        Assert.Equal(0.873412, busy.Busy);
        Assert.Equal(70592 + 10467, busy.MemoryTotalMiB);
        Assert.Equal(70592, busy.MemoryUsedMiB);
        Assert.Equal(627.4, busy.PowerW);
        Assert.Equal(4213408.791, busy.EnergyCounterJ!.Value, 3);
        Assert.Equal("gpu-node-1", busy.Host);
        Assert.Equal("ml/train-7f9c", busy.Pod);
        Assert.Equal("NVIDIA H100 80GB HBM3", busy.Name);
        Assert.Equal(new DateTime(2026, 11, 22, 9, 30, 0, DateTimeKind.Utc), busy.Time);
        var idle = readings.Single(r => r.Index == 1);
        Assert.Equal(0.0, idle.Busy);
        Assert.Equal("RUNID", idle.Job);
    }

    [Fact]
    public void Dcgm_MigInstancesAreDevicesOfTheirOwn_OldLabelNamesCount_AndBlankSentinelsAreDropped()
    {
        var readings = DcgmText.Parse(Fixture("dcgm-exporter-mig.txt"), DateTime.UtcNow);

        Assert.Equal(2, readings.Count);
        Assert.All(readings, r => Assert.Equal("GPU-9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c41", r.Uuid));
        var big = readings.Single(r => r.MigInstance == "1");
        Assert.Equal("3g.40gb", big.MigProfile);
        Assert.Equal("GPU-9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c41/1", big.DeviceKey);
        Assert.Equal("dgx-a100-02", big.Host);
        Assert.Equal("serving/infer-0", big.Pod);
        Assert.Equal(0.412, big.Busy);
        Assert.Equal(9812 + 30380, big.MemoryTotalMiB);

        // 2^47 (fp64 blank), 9223372036854775794 (int64 blank) and 2147483632 (int32 blank) are "no value".
        Assert.Null(big.PowerW);
        Assert.Null(big.EnergyCounterJ);
        Assert.Null(big.TemperatureC);
        Assert.Equal("1g.10gb", readings.Single(r => r.MigInstance == "9").MigProfile);
    }

    [Theory]
    [InlineData("timestamp, index, uuid, name, utilization.gpu [%], memory.used [MiB], memory.total [MiB], power.draw [W], temperature.gpu\n2026/11/22 10:00:00.000, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 50 %, 1 MiB, 2 MiB, 100 W, 40\n2026/11/22 10:00:01.000, 0, GPU-3b1a4c5e-9f0d", "line 3", "cut short")]
    [InlineData("2026/11/22 10:00:00.000, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, lots, 1, 2, 100, 40", "line 1, utilization.gpu", "not a number")]
    [InlineData("22.11.2026 10:00, 0, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, H100, 5, 1, 2, 100, 40", "line 1, timestamp", "not a time")]
    public void MalformedCsv_IsRefusedWhole_NamingLineAndField(string body, string where, string what)
    {
        var refused = Assert.Throws<InvalidInputException>(() => NvidiaSmiCsv.ParseGpus(body, TimeZoneInfo.Utc));

        Assert.Contains(where, refused.Message, StringComparison.Ordinal);
        Assert.Contains(what, refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-3b1a4c5e", "line 1", "not closed")]
    [InlineData("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-3b1a4c5e\" 5", "line 1", "name=\"value\"")]
    [InlineData("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\"} 5", "line 1, UUID", "no UUID label")]
    [InlineData("# TYPE x gauge\nDCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-3b1a4c5e\"} many", "line 2", "not a number")]
    [InlineData("DCGM_FI_DEV_GPU_UTIL{gpu=\"0\",UUID=\"GPU-3b1a4c5e\"}", "line 1", "no value")]
    public void MalformedPrometheusText_IsRefusedWhole_NamingTheLine(string body, string where, string what)
    {
        var refused = Assert.Throws<InvalidInputException>(() => DcgmText.Parse(body, DateTime.UtcNow));

        Assert.Contains(where, refused.Message, StringComparison.Ordinal);
        Assert.Contains(what, refused.Message, StringComparison.Ordinal);
    }
}
