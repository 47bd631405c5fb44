using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using Portal.UnitTests.Api;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Compute;

/// <summary>
/// The nvidia-smi poller, end to end, with a stand-in <c>nvidia-smi</c> (a script printing captured output; this
/// machine has no GPU): its GPU is attributed to the local job whose process nvidia-smi lists on it, and the
/// DCGM exporter's job-mapping file for that GPU names the job's run.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class NvidiaSmiPollerTests : IDisposable
{
    private readonly TempFolder _tools = new("fake-nvidia-smi");
    private readonly string _mapping;

    public NvidiaSmiPollerTests()
    {
        _mapping = Path.Combine(_tools.Path, "job-mapping");
        var script = Path.Combine(_tools.Path, "nvidia-smi");
        File.WriteAllText(script, """
            #!/bin/sh
            here=$(dirname "$0")
            case "$1" in
              --query-gpu=*) cat "$here/gpus.csv" ;;
              --query-compute-apps=*) cat "$here/apps.csv" ;;
              *) exit 2 ;;
            esac
            """.Replace("\r", "", StringComparison.Ordinal));
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.WriteAllText(Path.Combine(_tools.Path, "apps.csv"), TelemetryParserTests.Fixture("nvidia-smi-apps-none.csv"));
        Portal = new PortalFactory()
            .With("Portal:Telemetry:NvidiaSmiPath", script)
            .With("Portal:Telemetry:NvidiaSmiIntervalSeconds", "1")
            .With("Portal:Telemetry:DcgmJobMappingDir", _mapping);
        WriteGpus();
    }

    private PortalFactory Portal { get; }

    /// <summary>The captured H100 rows, stamped a second before the portal's clock (this machine's zone is the host zone).</summary>
    private void WriteGpus()
    {
        var stamp = TimeZoneInfo.ConvertTimeFromUtc(Portal.Time.GetUtcNow().UtcDateTime.AddSeconds(-1), TimeZoneInfo.Local).ToString("yyyy/MM/dd HH:mm:ss.fff", CultureInfo.InvariantCulture);
        var lines = TelemetryParserTests.Fixture("nvidia-smi-h100.csv").Split('\n');
        File.WriteAllText(Path.Combine(_tools.Path, "gpus.csv"), string.Join('\n', lines.Select((l, i) => i == 0 || l.Length < 23 ? l : stamp + l[23..])));
    }

    [Fact]
    public async Task AJobsProcessOnAGpu_GetsTheGpuCharged_AndTheDcgmMappingFileNamesItsRun()
    {
        await Portal.WaitForDemoDataAsync();
        var scientist = Portal.ClientFor("scientist@demo.local");
        var ops = Portal.ClientFor("ops@demo.local");
        var submitted = await (await scientist.PostAsJsonAsync("/api/v1/jobs", new { experiment = "gpu-job", command = "sleep 120" })).JsonAsync(HttpStatusCode.Accepted);
        var jobId = submitted.GetProperty("jobId").GetString()!;
        var runId = submitted.GetProperty("runId").GetString()!;
        var pid = 0;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            var job = await (await scientist.GetAsync($"/api/v1/jobs/{jobId}")).JsonAsync();
            pid = job.GetProperty("status").GetString() == "Running" && job.GetProperty("pid").ValueKind == System.Text.Json.JsonValueKind.Number ? job.GetProperty("pid").GetInt32() : 0;
            return pid > 0;
        }, "the job to run");

        // nvidia-smi now lists the job's process on GPU 0; the next poll (the clock moves on) sees it.
        File.WriteAllText(Path.Combine(_tools.Path, "apps.csv"),
            $"timestamp, gpu_uuid, pid, process_name, used_gpu_memory [MiB]\n2026/11/22 10:29:58.530, GPU-3b1a4c5e-9f0d-6a7b-2c8e-1d4f5a6b7c80, {pid}, python train.py, 70580 MiB\n");
        Portal.Time.Advance(TimeSpan.FromSeconds(10));
        WriteGpus();

        System.Text.Json.JsonElement gpu = default;
        await JobsApiTests.WaitUntilAsync(async () =>
        {
            var devices = await (await ops.GetAsync($"/api/v1/telemetry/devices?host={Environment.MachineName}")).JsonAsync();
            gpu = devices.EnumerateArray().FirstOrDefault(d => d.GetProperty("index").GetInt32() == 0);
            return gpu.ValueKind != System.Text.Json.JsonValueKind.Undefined && gpu.GetProperty("owner").GetString() == $"run:{runId}";
        }, "GPU 0 to be charged to the job's run");
        await (await scientist.PostAsync($"/api/v1/jobs/{jobId}/cancel", null)).JsonAsync();

        Assert.Equal("credit-risk", gpu.GetProperty("team").GetString());
        Assert.Equal(100, gpu.GetProperty("busyPercent").GetDouble(), 3);
        Assert.Equal(runId, await File.ReadAllTextAsync(Path.Combine(_mapping, "0")));
        Assert.False(File.Exists(Path.Combine(_mapping, "1")));
    }

    public void Dispose()
    {
        Portal.Dispose();
        _tools.Dispose();
    }
}
