using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Jobs;

namespace Portal.Infrastructure.Jobs;

/// <summary>What the runner keeps about a job's process while it runs, and what it logs about it.</summary>
public sealed partial class LocalJobRunner
{
    private sealed record Running(string JobId, string RunId, int Pid, Process? Process, string Folder, DateTime StartedAt, TimeSpan Timeout)
    {
        public long LogLength { get; set; }

        public long Dropped { get; set; }

        public DateTime? CancelAt { get; set; }

        public bool TimedOut { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} started as process {Pid}: {Command}")]
    private partial void LogStarted(string jobId, int pid, string command);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} ended {Status} (exit code {ExitCode})")]
    private partial void LogFinished(string jobId, JobStatus status, int? exitCode);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {JobId} re-attached to its running process {Pid}")]
    private partial void LogReattached(string jobId, int pid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} timed out after {Timeout}; stopping it")]
    private partial void LogTimedOut(string jobId, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} could not start")]
    private partial void LogStartFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Job {JobId} runs without a tracking token: {Reason}")]
    private partial void LogNoToken(string jobId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {JobId} ended but its results could not be recorded")]
    private partial void LogFinishFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not trim the log of job {JobId}")]
    private partial void LogTrimFailed(Exception exception, string jobId);

    [LoggerMessage(Level = LogLevel.Error, Message = "The job runner's loop failed; it carries on")]
    private partial void LogLoopFailed(Exception exception);
}
