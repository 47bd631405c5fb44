using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Domain.Jobs;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Models;

/// <summary>
/// Finishes validations when their evaluation job ends, and expires approval requests past their time.
/// A periodic pass also catches jobs that ended while the portal was down and checks that never started
/// (the database was busy), so a transient failure is tried again rather than left behind.
/// </summary>
public sealed partial class RegistryWorker(ModelValidation validation, Approvals approvals, IEventBus bus, ILogger<RegistryWorker> logger) : BackgroundService
{
    public static readonly TimeSpan SweepInterval = TimeSpan.FromSeconds(15);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var subscription = bus.Subscribe<JobStatusChanged>(async batch =>
        {
            foreach (var runId in batch.Select(e => e.RunId).Distinct(StringComparer.Ordinal))
            {
                await SafelyAsync(() => validation.CompleteAsync(runId, stoppingToken), stoppingToken);
            }
        }, e => e.Status.IsFinal());
        using var timer = new PeriodicTimer(SweepInterval);
        do
        {
            await SafelyAsync(async () =>
            {
                foreach (var runId in await validation.WaitingEvaluationsAsync(stoppingToken))
                {
                    await validation.CompleteAsync(runId, stoppingToken);
                }

                await validation.StartStalledAsync(stoppingToken);
                await approvals.ExpireDueAsync(stoppingToken);
            }, stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task SafelyAsync(Func<Task> work, CancellationToken stoppingToken)
    {
        try
        {
            await work();
        }
        catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            LogFailed(e);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "A registry pass (validation results or request expiry) failed")]
    private partial void LogFailed(Exception exception);
}
