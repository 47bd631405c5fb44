using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Sweeps;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Jobs;

/// <summary>
/// Ends runs nobody is driving any more: RUNNING, no heartbeat (logging) for
/// <see cref="JobOptions.RunHeartbeatTimeoutMinutes"/>, and no queued or running job behind them.
/// They become FAILED with the reason "lost", as a crashed MLflow client's runs would otherwise stay RUNNING forever.
/// </summary>
public sealed partial class RunWatchdog(
    IDbContextFactory<PortalDbContext> dbFactory,
    TrackingStore tracking,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<RunWatchdog> logger) : BackgroundService
{
    internal static readonly TimeSpan Interval = TimeSpan.FromSeconds(30);

    /// <summary>Marks lost runs; returns how many.</summary>
    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromMinutes(options.Value.Jobs.RunHeartbeatTimeoutMinutes);
        var cutoff = time.GetUtcNow().UtcDateTime - timeout;
        List<string> lost;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            lost = await db.Runs.AsNoTracking()
                .Where(r => r.Status == RunStatus.Running && r.HeartbeatAt < cutoff)
                .Where(r => !db.Jobs.Any(j => j.RunId == r.Id && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running)))
                .Where(r => !db.Sweeps.Any(s => s.ParentRunId == r.Id && s.Status == SweepStatus.Running))
                .OrderBy(r => r.HeartbeatAt).Select(r => r.Id).Take(1000).ToListAsync(cancellationToken);
        }

        foreach (var runId in lost)
        {
            await tracking.EndRunAsync(runId, RunStatus.Failed, $"lost: no heartbeat for {timeout.TotalMinutes:0.##} minutes and no live process", cancellationToken);
            LogLost(runId);
        }

        return lost.Count;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} was lost: no heartbeat and no live process")]
    private partial void LogLost(string runId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The run watchdog failed; it tries again")]
    private partial void LogFailed(Exception exception);
}
