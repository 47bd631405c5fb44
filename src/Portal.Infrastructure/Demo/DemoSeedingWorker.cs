using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Portal.Infrastructure.Demo;

/// <summary>Runs the background demo steps once the portal is up.</summary>
internal sealed partial class DemoSeedingWorker(DemoSeeder seeder, ILogger<DemoSeedingWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await seeder.RunBackgroundStepsAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down; unfinished steps run at the next start.
        }
        catch (Exception ex)
        {
            // The portal stays up without the rest of the demo data; the failure shows on Home.
            LogFailed(ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Demo seeding failed; the portal runs without the remaining demo data")]
    private partial void LogFailed(Exception exception);
}
