using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Local.Isolation;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Jobs;

/// <summary>
/// Runs jobs as processes on this machine, isolated from the portal by <see cref="ProcessIsolation"/>. Each
/// job gets a working folder under the work root with its code, inputs and <c>outputs/</c>, and a record
/// folder of the portal's under <c>runs/{runId}</c> in the data folder, where its stdout and stderr are
/// appended to <c>job.log</c> and its exit code is written (so a restarted portal can pick it up again, and
/// the job can neither read nor forge them). It runs in its own process group; at most
/// <see cref="JobOptions.MaxConcurrent"/> run at once. State lives in the job record, so after a restart
/// running jobs are re-attached when their process is alive and marked Failed ("lost") otherwise.
/// </summary>
public sealed partial class LocalJobRunner(
    IServiceProvider services,
    IDbContextFactory<PortalDbContext> dbFactory,
    DataDirectory data,
    IOptions<PortalOptions> options,
    IEventBus bus,
    ProcessIsolation isolation,
    TimeProvider time,
    ILogger<LocalJobRunner> logger) : BackgroundService
{
    public const string LogFile = "job.log";
    public const string LogArtifactPath = "logs/job.log";
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(250);
    private static readonly TimeSpan KillGrace = TimeSpan.FromSeconds(5);
    private readonly ConcurrentDictionary<string, Running> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once jobs left running by a previous portal were re-attached or marked lost.</summary>
    public Task Ready => _ready.Task;

    /// <summary>The portal's record of a job (log, exit code), in the data folder the job cannot see.</summary>
    public string FolderOf(string runId) => Path.Combine(data.RunsFolder, runId);

    public Task SubmitAsync(string jobId)
    {
        _wake.Release();
        return Task.CompletedTask;
    }

    public Task CancelAsync(string jobId)
    {
        if (_running.TryGetValue(jobId, out var running))
        {
            running.CancelAt ??= time.UtcNow();
            ProcessGroup.Signal(running.Pid, ProcessGroup.SigTerm);
        }

        _wake.Release();
        return Task.CompletedTask;
    }

    public async Task<JobLogChunk> ReadLogAsync(string jobId, long offset, int maxBytes, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken)
            ?? throw new NotFoundException($"There is no job {jobId}.");
        var path = Path.Combine(FolderOf(job.RunId), LogFile);
        var dropped = _running.TryGetValue(jobId, out var running) ? running.Dropped : JobCommand.ReadDropped(FolderOf(job.RunId));
        Stream? stream = File.Exists(path) ? new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete) : null;
        if (stream is null)
        {
            stream = (await services.GetRequiredService<RunArtifacts>().OpenAsync(job.RunId, LogArtifactPath, cancellationToken))?.Content;
        }

        if (stream is null)
        {
            return new JobLogChunk("", 0, 0, dropped);
        }

        await using (stream)
        {
            var length = stream.Length;
            offset = Math.Clamp(offset, 0, length);
            stream.Seek(offset, SeekOrigin.Begin);
            var buffer = new byte[(int)Math.Min(maxBytes, length - offset)];
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            // Do not split a UTF-8 character: an incomplete one at the end is left for the next read.
            var usable = JobCommand.CompleteUtf8Length(buffer, read);
            return new JobLogChunk(Encoding.UTF8.GetString(buffer, 0, usable), offset + usable, length, dropped);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await ReattachAsync(stoppingToken);
        }
        finally
        {
            _ready.TrySetResult();
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await WatchRunningAsync(stoppingToken);
                await StartQueuedAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogLoopFailed(e);
            }

            try
            {
                await _wake.WaitAsync(Tick, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private async Task ReattachAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Running).ToListAsync(cancellationToken);
        foreach (var job in jobs)
        {
            if (job.ProcessId is { } pid && ProcessGroup.IsAlive(pid, job.ProcessStartedAt))
            {
                var folder = FolderOf(job.RunId);
                _running[job.Id] = new Running(job.Id, job.RunId, pid, null, folder, job.StartedAt ?? time.UtcNow(), job.Timeout)
                {
                    Dropped = JobCommand.ReadDropped(folder),
                    CancelAt = job.CancelRequested ? time.UtcNow() : null,
                };
                LogReattached(job.Id, pid);
            }
            else
            {
                // The process is gone and nobody saw it end: the job and its run are lost.
                var exit = JobCommand.ReadExitCode(FolderOf(job.RunId));
                await FinishAsync(new Running(job.Id, job.RunId, job.ProcessId ?? 0, null, FolderOf(job.RunId), job.StartedAt ?? time.UtcNow(), job.Timeout),
                    exit, exit is null ? "lost: the portal restarted and the job's process was gone" : null, cancellationToken);
            }
        }
    }

    private async Task WatchRunningAsync(CancellationToken cancellationToken)
    {
        var maxLog = options.Value.Jobs.MaxLogBytes;
        foreach (var running in _running.Values)
        {
            TrimLog(running, maxLog);
            var exited = running.Process is { } process ? process.HasExited : !ProcessGroup.IsAlive(running.Pid, null);
            if (exited)
            {
                int? exitCode = running.Process is { } p ? p.ExitCode : JobCommand.ReadExitCode(running.Folder);
                ProcessGroup.Signal(running.Pid, ProcessGroup.SigKill); // leftovers the job started in the background
                TrimLog(running, maxLog);
                var reason = running.TimedOut ? $"timed out after {running.Timeout:c}"
                    : exitCode == 127 ? "exit code 127: the command was not found"
                    : exitCode is null && running.CancelAt is null ? "lost: the job's process ended without an exit code"
                    : null;
                await FinishAsync(running, exitCode, reason, cancellationToken);
                continue;
            }

            if (!running.TimedOut && time.UtcNow() - running.StartedAt > running.Timeout)
            {
                running.TimedOut = true;
                running.CancelAt = time.UtcNow();
                LogTimedOut(running.JobId, running.Timeout);
                ProcessGroup.Signal(running.Pid, ProcessGroup.SigTerm);
            }
            // CancelAsync signals at once; this also catches a cancel saved while the job was being started.
            else if (running.CancelAt is null && await CancelRequestedAsync(running.JobId, cancellationToken))
            {
                running.CancelAt = time.UtcNow();
                ProcessGroup.Signal(running.Pid, ProcessGroup.SigTerm);
            }
            else if (running.CancelAt is { } at && time.UtcNow() - at > KillGrace)
            {
                ProcessGroup.Signal(running.Pid, ProcessGroup.SigKill);
            }
        }
    }

    private async Task<bool> CancelRequestedAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().AnyAsync(j => j.Id == jobId && j.CancelRequested, cancellationToken);
    }

    /// <summary>
    /// Keeps the first <paramref name="maxLog"/> bytes of the log. The job appends (O_APPEND), so cutting the
    /// file back makes its next writes land at the new end; what was cut is counted and reported.
    /// </summary>
    private void TrimLog(Running running, long maxLog)
    {
        var path = Path.Combine(running.Folder, LogFile);
        try
        {
            var length = new FileInfo(path).Length;
            if (length > maxLog)
            {
                using (var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete))
                {
                    file.SetLength(maxLog);
                }

                running.Dropped += length - maxLog;
                File.WriteAllText(Path.Combine(running.Folder, JobCommand.DroppedFile), running.Dropped.ToString(CultureInfo.InvariantCulture));
                length = maxLog;
            }

            if (length != running.LogLength)
            {
                running.LogLength = length;
                bus.Publish(new JobLogGrew(running.JobId, running.RunId, length, time.UtcNow()));
            }
        }
        catch (FileNotFoundException)
        {
        }
        catch (IOException e)
        {
            LogTrimFailed(e, running.JobId);
        }
    }

    private async Task StartQueuedAsync(CancellationToken cancellationToken)
    {
        var room = options.Value.Jobs.MaxConcurrent - _running.Count;
        if (room <= 0)
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var queued = await db.Jobs.Where(j => j.Status == JobStatus.Queued).OrderBy(j => j.SubmittedAt).Take(room).ToListAsync(cancellationToken);
        foreach (var job in queued)
        {
            await StartAsync(db, job, cancellationToken);
        }
    }

    private async Task StartAsync(PortalDbContext db, Job job, CancellationToken cancellationToken)
    {
        var records = FolderOf(job.RunId);
        string? tokenSecret = null;
        var tokenIssued = false;
        try
        {
            Directory.CreateDirectory(records);
            // The job's folder is the portal's while it is filled, then handed to the job's own OS user.
            var folder = isolation.PrepareWorkFolder(job.RunId);
            Directory.CreateDirectory(Path.Combine(folder, "outputs"));
            if (job.CodePath is not null)
            {
                // A system job's code is an absolute folder of the portal's tools; a person's is relative to the code root.
                JobCommand.CopyFolder(Path.IsPathRooted(job.CodePath) ? job.CodePath : Path.Combine(services.GetRequiredService<JobService>().CodeRoot, job.CodePath), folder);
            }

            // Nothing of the portal's own environment: only what every job gets, what it was given and its own variables.
            var environment = isolation.BaseEnvironment(folder);
            foreach (var (name, value) in job.Environment)
            {
                environment[name] = value;
            }

            foreach (var (name, reference) in job.Inputs)
            {
                environment[$"INPUT_{name.ToUpperInvariant()}"] = await RunFolder.MaterialiseAsync(services, folder, name, reference, cancellationToken);
            }

            foreach (var (key, value) in job.Params)
            {
                environment[$"PARAM_{Regex.Replace(key, "[^A-Za-z0-9_]", "_").ToUpperInvariant()}"] = value;
            }

            var actor = new Actor(job.SubmittedBy);
            try
            {
                var (_, secret) = await services.GetRequiredService<AccessTokenService>().IssueAsync(actor, TokenName(job.Id), 7, cancellationToken);
                (tokenIssued, tokenSecret) = (true, secret);
            }
            catch (DomainException e)
            {
                LogNoToken(job.Id, e.Message);
            }

            environment["MLFLOW_TRACKING_URI"] = TrackingUri() ?? "";
            environment["MLFLOW_RUN_ID"] = job.RunId;
            environment["MLFLOW_EXPERIMENT_ID"] = job.ExperimentId.ToString(CultureInfo.InvariantCulture);
            environment["MLFLOW_TRACKING_TOKEN"] = tokenSecret ?? "";
            environment["PORTAL_JOB_ID"] = job.Id;
            environment["PYTHONUNBUFFERED"] = "1";

            ProcessIsolation.WriteEnvironment(folder, environment);
            isolation.HandOver(folder);
            var command = JobCommand.Substitute(job.Command, job, environment, options.Value.Local.Python);
            var start = isolation.StartInfo(new SandboxedCommand(folder, command, environment,
                Path.Combine(records, LogFile), Path.Combine(records, JobCommand.ExitFile)));
            var process = Process.Start(start) ?? throw new InvalidOperationException("The process did not start.");
            job.Started(process.Id, ProcessGroup.StartTimeOf(process, time.UtcNow()), time);
            try
            {
                process.StandardInput.Close();
            }
            catch (IOException)
            {
                // The job already ended and closed its end of the pipe; its exit code is still read below.
            }

            try
            {
                await DatabaseErrors.RetryAsync(() => db.SaveChangesAsync(cancellationToken), logger, $"Recording the start of job {job.Id}", cancellationToken);
            }
            catch (Exception e) when (DatabaseErrors.IsTransient(e))
            {
                // Unrecorded, the job is still Queued and would be started again: stop this copy first.
                ProcessGroup.Signal(process.Id, ProcessGroup.SigKill);
                process.Dispose();
                throw;
            }

            _running[job.Id] = new Running(job.Id, job.RunId, process.Id, process, records, job.StartedAt!.Value, job.Timeout);
            LogStarted(job.Id, process.Id, job.Command);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception or DomainException or KeyNotFoundException or ArgumentException)
        {
            LogStartFailed(e, job.Id);
            job.FailedToStart($"could not start: {e.Message}", time);
            await db.SaveChangesAsync(cancellationToken);
            await services.GetRequiredService<TrackingStore>().EndRunAsync(job.RunId, RunStatus.Failed, job.Reason, cancellationToken);
            ProcessIsolation.DeleteWorkFolder(isolation.WorkFolderOf(job.RunId));
            if (tokenIssued)
            {
                await services.GetRequiredService<AccessTokenService>().RevokeNamedAsync(job.SubmittedBy, TokenName(job.Id), cancellationToken);
            }
        }
    }

    private string? TrackingUri()
    {
        if (options.Value.Jobs.TrackingUri is { Length: > 0 } configured)
        {
            return configured.TrimEnd('/');
        }

        var addresses = services.GetService<IServer>()?.Features.Get<IServerAddressesFeature>()?.Addresses;
        var address = addresses?.FirstOrDefault(a => a.StartsWith("http://", StringComparison.Ordinal)) ?? addresses?.FirstOrDefault();
        // Kestrel listening on every interface is reached locally through loopback.
        return address?.Replace("://+", "://127.0.0.1", StringComparison.Ordinal).Replace("://*", "://127.0.0.1", StringComparison.Ordinal)
            .Replace("://0.0.0.0", "://127.0.0.1", StringComparison.Ordinal).Replace("://[::]", "://127.0.0.1", StringComparison.Ordinal).TrimEnd('/');
    }

    public override void Dispose()
    {
        _wake.Dispose();
        base.Dispose();
    }
}
