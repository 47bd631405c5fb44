using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Local.Isolation;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Jobs;

/// <summary>What happens when a job's process is gone: its outputs kept, its token revoked, its job and run ended.</summary>
public sealed partial class LocalJobRunner
{
    private async Task FinishAsync(Running running, int? exitCode, string? reason, CancellationToken cancellationToken)
    {
        _running.TryRemove(running.JobId, out _);
        running.Process?.Dispose();
        var work = isolation.WorkFolderOf(running.RunId);
        try
        {
            // Each part can be done again (outputs replace themselves, a finished job and run stay finished),
            // so a busy database is simply waited out.
            var job = await DatabaseErrors.RetryAsync(async () =>
            {
                // Taken back before anything in it is read: what the job left can no longer change under the reader.
                var written = Directory.Exists(work) ? isolation.Reclaim(work) : [];
                await RunFolder.StoreOutputsAsync(services.GetRequiredService<RunArtifacts>(), work, written, running.Folder, running.RunId, running.Dropped,
                    options.Value.Jobs.MaxLogMegabytes, cancellationToken);
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                var ended = await db.Jobs.FirstAsync(j => j.Id == running.JobId, cancellationToken);
                // Found by name, so a job re-attached after a restart loses its token too; gone before anyone sees the job ended.
                await services.GetRequiredService<AccessTokenService>().RevokeNamedAsync(ended.SubmittedBy, TokenName(ended.Id), cancellationToken);
                ended.Ended(exitCode, reason, time);
                await db.SaveChangesAsync(cancellationToken);
                var tracking = services.GetRequiredService<TrackingStore>();
                await (ended.Status switch
                {
                    JobStatus.Completed => tracking.EndRunAsync(ended.RunId, RunStatus.Finished, null, cancellationToken),
                    JobStatus.Canceled => tracking.EndRunAsync(ended.RunId, RunStatus.Killed, null, cancellationToken),
                    _ => tracking.EndRunAsync(ended.RunId, RunStatus.Failed, ended.Reason ?? "failed", cancellationToken),
                });
                return ended;
            }, logger, $"Recording the end of job {running.JobId}", cancellationToken);

            ProcessIsolation.DeleteWorkFolder(work);
            LogFinished(job.Id, job.Status, exitCode);
        }
        catch (Exception e) when (DatabaseErrors.IsTransient(e) && !cancellationToken.IsCancellationRequested)
        {
            // Still unwritten: the next tick finds the process gone and tries again.
            _running[running.JobId] = running with { Process = null };
            LogFinishFailed(e, running.JobId);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFinishFailed(e, running.JobId);
        }
    }

    private static string TokenName(string jobId) => $"job {jobId}";
}
