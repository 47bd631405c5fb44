using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Experiments;
using Portal.Domain.Identity;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Experiments;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// The simulated fleet, live: every 5 s its readings are written as the DCGM exporter writes them and taken in
/// through the same parser and ingestion path as a scrape; its training runs log a loss each minute, as live runs do.
/// On with demo data unless <c>Portal:Demo:SimulatedFleet</c> is false.
/// </summary>
public sealed partial class SimulatedFleetGenerator(
    IServiceProvider services, DemoSeeder seeder, IOptions<PortalOptions> options, TimeProvider time, ILogger<SimulatedFleetGenerator> logger) : BackgroundService
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Demo.Enabled || !options.Value.Demo.SimulatedFleet)
        {
            return;
        }

        // Only a data folder that gets demo data gets the fleet; its week of history (the "compute" step) comes first.
        if (!seeder.Active)
        {
            return;
        }

        while (seeder.Progress?.State is not (DemoSeedState.Completed or DemoSeedState.Failed))
        {
            await Task.Delay(TimeSpan.FromSeconds(1), stoppingToken);
        }

        var ingestor = services.GetRequiredService<TelemetryIngestor>();
        var tracking = services.GetRequiredService<TrackingStore>();
        Dictionary<string, string> runs = [];
        string? deployment = null;
        var lastLog = DateTime.MinValue;
        var step = 0L;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var now = time.GetUtcNow().UtcDateTime;
                if (runs.Count == 0 || now - lastLog >= TimeSpan.FromMinutes(1))
                {
                    runs = await DemoComputeStep.FindRunsAsync(services, stoppingToken);
                    deployment = await DemoComputeStep.DeploymentLabelAsync(services, stoppingToken);
                    await LogProgressAsync(tracking, runs, now, step++, stoppingToken);
                    lastLog = now;
                }

                if (runs.Count > 0)
                {
                    foreach (var host in SimulatedFleet.Readings(now, now, runs, deployment).GroupBy(r => r.Host))
                    {
                        var text = SimulatedFleet.AsDcgmText(host.Select(r => r.Reading));
                        var readings = DcgmText.Parse(text, now);
                        await ingestor.IngestAsync(new TelemetryBatch(SimulatedFleet.Hosts[host.Key], "simulated dcgm", readings, []),
                            new IngestSettings(SimulatedFleet.Compute, Interval, Simulated: true), stoppingToken);
                    }
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e.Message);
            }

            await Task.Delay(Interval, stoppingToken);
        }
    }

    /// <summary>The training runs log a loss (and the notebook a heartbeat), so they stay alive as running runs do.</summary>
    private static async Task LogProgressAsync(TrackingStore tracking, IReadOnlyDictionary<string, string> runs, DateTime now, long step, CancellationToken cancellationToken)
    {
        var ms = (long)(now - DateTime.UnixEpoch).TotalMilliseconds;
        foreach (var (name, id) in runs)
        {
            var user = name == SimulatedFleet.Pretrain ? SimulatedFleet.Admin : SimulatedFleet.Scientist;
            var actor = new Actor(user, [Roles.DataScientist]);
            var metric = name == SimulatedFleet.Notebook
                ? new MetricPoint("kernel_alive", 1, ms, step)
                : new MetricPoint("train_loss", Math.Round(2.5 * Math.Exp(-step / 300.0) + 0.2, 4), ms, step);
            await tracking.LogBatchAsync(id, [metric], [], [], actor, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Simulated GPU fleet: {Reason}")]
    private partial void LogFailed(string reason);
}
