using System.Diagnostics;
using Portal.Domain.Compute;

namespace Portal.Infrastructure.Compute;

/// <summary>Polls <c>nvidia-smi</c> on this machine: the GPUs, and the processes on them (to attribute use to jobs).</summary>
public sealed class NvidiaSmiSource(string program, TimeSpan interval) : ITelemetrySource
{
    public string Name => "nvidia-smi";

    public TimeSpan Interval => interval;

    public string Host { get; } = Environment.MachineName;

    public bool Available { get; } = Find(program) is not null;

    public async Task<IReadOnlyList<TelemetryBatch>> ReadAsync(CancellationToken cancellationToken)
    {
        var gpus = await RunAsync(NvidiaSmiCsv.GpuQueryArguments, cancellationToken);
        var apps = await RunAsync(NvidiaSmiCsv.AppQueryArguments, cancellationToken);
        var readings = NvidiaSmiCsv.ParseGpus(gpus, TimeZoneInfo.Local);
        var processes = NvidiaSmiCsv.ParseApps(apps);
        return [new TelemetryBatch(Host, Name, readings, processes)];
    }

    private async Task<string> RunAsync(string arguments, CancellationToken cancellationToken)
    {
        using var process = Process.Start(new ProcessStartInfo(Find(program) ?? program, arguments)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException($"{program} did not start.");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }

        return process.ExitCode == 0 ? await output : throw new InvalidOperationException($"{program} {arguments} exited with {process.ExitCode}: {(await error).Trim()}");
    }

    /// <summary>The program's full path: as given when it holds a '/', else found on PATH; null when absent.</summary>
    public static string? Find(string program)
    {
        if (program.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(program) ? program : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program)).FirstOrDefault(File.Exists);
    }
}

/// <summary>Scrapes one DCGM exporter's <c>/metrics</c>.</summary>
public sealed class DcgmScraper(Uri url, TimeSpan interval, HttpClient http, TimeProvider time) : ITelemetrySource
{
    public string Name => $"dcgm {url}";

    public TimeSpan Interval => interval;

    public bool Available => true;

    public async Task<IReadOnlyList<TelemetryBatch>> ReadAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        var text = await http.GetStringAsync(url, timeout.Token);
        var readings = DcgmText.Parse(text, time.GetUtcNow().UtcDateTime);

        // Each exporter names its host (Hostname); where it does not, the host it was scraped from stands in.
        return readings.GroupBy(r => r.Host ?? url.Host, StringComparer.Ordinal)
            .Select(g => new TelemetryBatch(g.Key, Name, g.ToList(), []))
            .ToList();
    }
}
