using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Domain.Jobs;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Finds GPU allocations that sit idle: consecutive minutes in which a device held by a run or deployment was
/// busy less than <c>IdleBusyBelow</c> of the time form a stretch; a stretch longer than <c>IdleWindowMinutes</c>
/// is waste, raises an alert (resolved when the GPU gets busy or is released) and, when the optional policy is
/// on, cancels a training job idle past <c>CancelIdleJobsAfterMinutes</c>, audited.
/// </summary>
public sealed partial class IdleWatch(
    IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> options, JobService jobs, TimeProvider time, ILogger<IdleWatch> logger)
{
    private const string Cursor = "idle";
    private const long Minute = 60_000;
    private const int MissingMinutesAllowed = 2;

    /// <summary>Checks again from <paramref name="from"/> (only while no idle stretch is open, so no minute counts twice).</summary>
    public async Task RescanFromAsync(DateTime from, CancellationToken cancellationToken)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            if (await db.IdleStretches.AnyAsync(s => !s.Ended, cancellationToken))
            {
                return;
            }

            await TelemetryRollups.SetCursorAsync(db, Cursor, TelemetryRollups.Ms(from) / Minute * Minute, cancellationToken);
        }

        await CheckAsync(cancellationToken);
    }

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value.Telemetry;
        var now = time.GetUtcNow().UtcDateTime;

        // The minute before the current one may still be filling; the one before that is complete.
        var lastComplete = TelemetryRollups.Ms(now) / Minute * Minute - 2 * Minute;
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var cursor = await TelemetryRollups.CursorAsync(db, Cursor, cancellationToken);
        if (cursor == 0)
        {
            cursor = lastComplete - settings.IdleWindowMinutes * Minute * 2;
        }

        var open = await db.IdleStretches.Where(s => !s.Ended).ToListAsync(cancellationToken);
        if (lastComplete >= cursor)
        {
            var minutes = await db.GpuMinutes.AsNoTracking().Where(m => m.Bucket >= cursor && m.Bucket <= lastComplete && m.Owner != "")
                .OrderBy(m => m.Bucket).ToListAsync(cancellationToken);
            foreach (var m in minutes)
            {
                if (m.BusyKnownSeconds <= 0)
                {
                    // MIG instances and some GPUs report no busy share: nothing says they are idle.
                    continue;
                }

                var busy = m.BusySeconds / m.BusyKnownSeconds;
                var stretch = open.FirstOrDefault(s => s.DeviceId == m.DeviceId && s.Owner == m.Owner && !s.Ended);
                var start = TelemetryRollups.FromMs(m.Bucket);
                if (busy < settings.IdleBusyBelow)
                {
                    // A minute or two without readings (a missed scrape, a restart) does not end the stretch.
                    if (stretch is not null && TelemetryRollups.Ms(stretch.LastMinute) + (MissingMinutesAllowed + 1) * Minute >= m.Bucket)
                    {
                        var minutesSoFar = stretch.IdleSeconds;
                        stretch.IdleSeconds += m.Seconds;
                        stretch.MeanBusy = (stretch.MeanBusy * minutesSoFar + busy * m.Seconds) / Math.Max(stretch.IdleSeconds, 1e-9);
                        stretch.LastMinute = start;
                        continue;
                    }

                    if (stretch is not null)
                    {
                        await EndAsync(db, stretch, "its GPU was released", cancellationToken);
                    }

                    var fresh = new IdleStretch { Id = Guid.NewGuid(), DeviceId = m.DeviceId, Owner = m.Owner, StartedAt = start, LastMinute = start, IdleSeconds = m.Seconds, MeanBusy = busy };
                    db.IdleStretches.Add(fresh);
                    open.Add(fresh);
                }
                else if (stretch is not null)
                {
                    await EndAsync(db, stretch, string.Create(CultureInfo.InvariantCulture, $"the GPU is busy again ({busy:P0})"), cancellationToken);
                }
            }

            await TelemetryRollups.SetCursorAsync(db, Cursor, lastComplete + Minute, cancellationToken);
        }

        var toCancel = new List<(IdleStretch Stretch, string RunId)>();
        foreach (var stretch in open.Where(s => !s.Ended))
        {
            if (TelemetryRollups.Ms(stretch.LastMinute) < lastComplete - (MissingMinutesAllowed + 1) * Minute)
            {
                await EndAsync(db, stretch, "the GPU was released", cancellationToken);
                continue;
            }

            var length = stretch.LastMinute.AddMinutes(1) - stretch.StartedAt;
            if (length.TotalMinutes >= settings.IdleWindowMinutes && !stretch.Flagged)
            {
                stretch.Flagged = true;
                var device = await db.GpuDevices.AsNoTracking().FirstOrDefaultAsync(d => d.Id == stretch.DeviceId, cancellationToken);
                var label = await db.UsageOwners.AsNoTracking().Where(o => o.Owner == stretch.Owner).Select(o => o.Label).FirstOrDefaultAsync(cancellationToken) ?? stretch.Owner;
                var alert = Alert.ForSource(stretch.Owner, AlertSeverity.Warning,
                    string.Create(CultureInfo.InvariantCulture, $"Idle GPU: {label} on {device?.Label ?? "a GPU"}"),
                    string.Create(CultureInfo.InvariantCulture, $"{label} has held {device?.Label ?? "a GPU"} for {(length.TotalMinutes >= 120 ? $"{length.TotalHours:0.#} hours" : $"{length.TotalMinutes:0} minutes")} at {stretch.MeanBusy:P1} busy (idle below {settings.IdleBusyBelow:P0} for over {settings.IdleWindowMinutes} min): release it or put it to work."),
                    stretch.MeanBusy, settings.IdleBusyBelow, time);
                db.Alerts.Add(alert);
                stretch.AlertId = alert.Id;
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertRaised, alert.Source, time, after: alert.Title, reason: alert.Message));
            }

            if (settings.CancelIdleJobsAfterMinutes is { } limit && length.TotalMinutes >= limit && !stretch.JobCanceled && UsageOwner.Parse(stretch.Owner) is { Kind: UsageKind.Run } run)
            {
                toCancel.Add((stretch, run.Id));
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        foreach (var (stretch, runId) in toCancel)
        {
            await CancelIdleJobAsync(stretch, runId, settings.CancelIdleJobsAfterMinutes!.Value, cancellationToken);
        }
    }

    private async Task EndAsync(PortalDbContext db, IdleStretch stretch, string why, CancellationToken cancellationToken)
    {
        stretch.Ended = true;
        if (stretch.AlertId is { } id && await db.Alerts.FindAsync([id], cancellationToken) is { IsOpen: true } alert)
        {
            alert.Resolve(why, time);
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.AlertResolved, alert.Source, time, before: alert.Title, after: why));
        }
    }

    private async Task CancelIdleJobAsync(IdleStretch stretch, string runId, int limit, CancellationToken cancellationToken)
    {
        var job = await jobs.FindByRunAsync(runId, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var tracked = await db.IdleStretches.FirstAsync(s => s.Id == stretch.Id, cancellationToken);
        tracked.JobCanceled = true;
        if (job is null || job.Status.IsFinal() || job.IsSystem)
        {
            await db.SaveChangesAsync(cancellationToken);
            return;
        }

        try
        {
            var (_, message) = await jobs.CancelAsync(job.Id, Actor.System, cancellationToken);
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.IdleJobCanceled, $"job:{job.Id}", time,
                before: "status=Running", after: message,
                reason: string.Create(CultureInfo.InvariantCulture, $"its GPU stayed below {options.Value.Telemetry.IdleBusyBelow:P0} busy for over {limit} minutes (Portal:Telemetry:CancelIdleJobsAfterMinutes)")));
            LogCanceled(job.Id, limit);
        }
        catch (DomainException e)
        {
            LogCancelFailed(job.Id, e.Message);
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Canceled job {JobId}: its GPU was idle for over {Minutes} minutes")]
    private partial void LogCanceled(string jobId, int minutes);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not cancel idle job {JobId}: {Reason}")]
    private partial void LogCancelFailed(string jobId, string reason);
}
