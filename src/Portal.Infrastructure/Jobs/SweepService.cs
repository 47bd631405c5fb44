using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Ports;
using Portal.Domain.Sweeps;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Jobs;

/// <summary>A sweep to start: the job to run for each trial, the space, and how to judge trials.</summary>
public sealed record SweepRequest(
    JobRequest Job,
    string? Name,
    SweepStrategy Strategy,
    IReadOnlyList<ParamSpace> Space,
    string? Objective,
    ObjectiveDirection Direction,
    int MaxTrials,
    int MaxConcurrent,
    int Seed = 1);

/// <summary>A trial of a sweep, with its objective value when logged.</summary>
public sealed record SweepTrial(Run Run, Job? Job, double? Objective);

/// <summary>How strongly a param goes with the objective across finished trials (|Pearson r|, or the correlation ratio for text params).</summary>
public sealed record ParamImportance(string Param, double Importance, int Trials);

/// <summary>
/// Hyperparameter sweeps: a parent run, and child runs launched as jobs — at most
/// <see cref="Sweep.MaxConcurrent"/> at a time — until every trial ran. Ranks trials by the objective and
/// estimates which params matter.
/// </summary>
public sealed partial class SweepService(
    IDbContextFactory<PortalDbContext> dbFactory,
    TrackingStore tracking,
    JobService jobs,
    IEventBus bus,
    TimeProvider time,
    ILogger<SweepService> logger) : BackgroundService
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    public async Task<Sweep> CreateAsync(SweepRequest request, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (!JobService.CanSubmit(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can start sweeps.");
        }

        var (experimentName, _, inputs, _, _) = await jobs.CheckAsync(request.Job, cancellationToken);
        var name = string.IsNullOrWhiteSpace(request.Name) ? $"sweep-{request.Objective}" : request.Name.Trim(' ');
        // The sweep checks itself before its experiment or parent run exists, so a bad space leaves nothing behind.
        _ = Sweep.Create(name, 0, "pending", request.Job.Command!, request.Job.CodePath, inputs, request.Strategy, request.Space,
            request.Objective ?? "", request.Direction, request.MaxTrials, request.MaxConcurrent, request.Seed, actor, time);
        var experiment = await tracking.GetOrCreateExperimentAsync(experimentName, actor, cancellationToken);
        var parent = await tracking.CreateRunAsync(experiment.Id.ToString(CultureInfo.InvariantCulture), name, null,
            new Dictionary<string, string> { ["mlflow.source.type"] = "SWEEP", ["portal.sweep.objective"] = request.Objective ?? "" }, actor, cancellationToken);
        var sweep = Sweep.Create(name, experiment.Id, parent.Id, request.Job.Command!, request.Job.CodePath?.Trim().Trim('/'), inputs, request.Strategy, request.Space,
            request.Objective!, request.Direction, request.MaxTrials, request.MaxConcurrent, request.Seed, actor, time);
        await tracking.LogBatchAsync(parent.Id, [], [new("strategy", sweep.Strategy.ToString()), new("objective", sweep.Objective), new("direction", sweep.Direction.ToString()),
            new("max_trials", sweep.Trials.Count.ToString(CultureInfo.InvariantCulture)), new("max_concurrent", sweep.MaxConcurrent.ToString(CultureInfo.InvariantCulture))],
            [new("portal.sweep", sweep.Id)], actor, cancellationToken);
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            db.Sweeps.Add(sweep);
            await db.SaveChangesAsync(cancellationToken);
        }

        await AdvanceAsync(sweep.Id, cancellationToken);
        return sweep;
    }

    public async Task<Sweep?> FindAsync(string sweepId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Sweeps.AsNoTracking().FirstOrDefaultAsync(s => s.Id == sweepId, cancellationToken);
    }

    public async Task<IReadOnlyList<Sweep>> RecentAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Sweeps.AsNoTracking().OrderByDescending(s => s.CreatedAt).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>Trials, best first by the objective (trials without it last, newest first).</summary>
    public async Task<IReadOnlyList<SweepTrial>> TrialsAsync(Sweep sweep, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var sweepJobs = await db.Jobs.AsNoTracking().Where(j => j.SweepId == sweep.Id).ToListAsync(cancellationToken);
        var runIds = sweepJobs.Select(j => j.RunId).ToList();
        var runs = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).ToListAsync(cancellationToken);
        var byRun = sweepJobs.ToDictionary(j => j.RunId, StringComparer.Ordinal);
        var trials = runs.Select(r => new SweepTrial(r, byRun.GetValueOrDefault(r.Id),
            r.Metrics.TryGetValue(sweep.Objective, out var m) && double.IsFinite(m.Value) ? m.Value : null));
        return [.. trials
            .OrderBy(t => t.Objective is null)
            .ThenBy(t => t.Objective is { } v ? (sweep.Direction == ObjectiveDirection.Maximize ? -v : v) : 0)
            .ThenByDescending(t => t.Run.StartTime)];
    }

    /// <summary>|Pearson r| of numeric params with the objective; the correlation ratio η for text params.</summary>
    public static IReadOnlyList<ParamImportance> Importance(Sweep sweep, IReadOnlyList<SweepTrial> trials)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var scored = trials.Where(t => t.Objective is not null).ToList();
        var result = new List<ParamImportance>();
        foreach (var param in sweep.Space.Select(p => p.Name))
        {
            var pairs = scored.Where(t => t.Run.Params.ContainsKey(param)).Select(t => (Text: t.Run.Params[param], Y: t.Objective!.Value)).ToList();
            if (pairs.Count < 3)
            {
                continue;
            }

            double importance;
            if (pairs.All(p => double.TryParse(p.Text, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                var xs = pairs.Select(p => double.Parse(p.Text, CultureInfo.InvariantCulture)).ToArray();
                var ys = pairs.Select(p => p.Y).ToArray();
                importance = Math.Abs(Pearson(xs, ys));
            }
            else
            {
                var mean = pairs.Average(p => p.Y);
                var total = pairs.Sum(p => (p.Y - mean) * (p.Y - mean));
                var between = pairs.GroupBy(p => p.Text, StringComparer.Ordinal).Sum(g => g.Count() * Math.Pow(g.Average(p => p.Y) - mean, 2));
                importance = total == 0 ? 0 : Math.Sqrt(between / total);
            }

            result.Add(new ParamImportance(param, double.IsFinite(importance) ? importance : 0, pairs.Count));
        }

        return [.. result.OrderByDescending(r => r.Importance)];
    }

    public async Task<bool> CancelAsync(string sweepId, Actor actor, CancellationToken cancellationToken)
    {
        if (!JobService.CanSubmit(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can cancel sweeps.");
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var sweep = await db.Sweeps.FirstOrDefaultAsync(s => s.Id == sweepId, cancellationToken) ?? throw new NotFoundException($"There is no sweep {sweepId}.");
            if (!sweep.Cancel(actor, time))
            {
                return false;
            }

            await db.SaveChangesAsync(cancellationToken);
            var open = await db.Jobs.AsNoTracking().Where(j => j.SweepId == sweepId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running)).Select(j => j.Id).ToListAsync(cancellationToken);
            // The sweep's trials are its creator's jobs: whoever may cancel the sweep may stop them.
            foreach (var jobId in open)
            {
                await jobs.CancelAsync(jobId, Actor.System, cancellationToken);
            }

            await tracking.EndRunAsync(sweep.ParentRunId, RunStatus.Killed, null, cancellationToken);
            return true;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Launches trials while there is room, and finishes the sweep when every trial has ended.</summary>
    public async Task AdvanceAsync(string sweepId, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var sweep = await db.Sweeps.FirstOrDefaultAsync(s => s.Id == sweepId, cancellationToken);
            if (sweep is null || sweep.Status != SweepStatus.Running)
            {
                return;
            }

            var open = await db.Jobs.CountAsync(j => j.SweepId == sweepId && (j.Status == JobStatus.Queued || j.Status == JobStatus.Running), cancellationToken);
            var owner = new Actor(sweep.CreatedBy, [Domain.Identity.Roles.DataScientist]);
            var experiment = (await tracking.GetExperimentAsync(sweep.ExperimentId.ToString(CultureInfo.InvariantCulture), cancellationToken)).Name;
            while (open < sweep.MaxConcurrent && sweep.TakeNextTrial() is { } trial)
            {
                await db.SaveChangesAsync(cancellationToken);
                var number = sweep.Launched;
                await jobs.SubmitAsync(new JobRequest(experiment, sweep.Command, sweep.CodePath, sweep.Inputs, trial,
                    RunName: $"{sweep.Name} #{number}", ParentRunId: sweep.ParentRunId, SweepId: sweep.Id), owner, cancellationToken);
                open++;
            }

            if (open == 0 && sweep.Launched >= sweep.Trials.Count)
            {
                sweep.Complete(time);
                await db.SaveChangesAsync(cancellationToken);
                var trials = await TrialsAsync(sweep, cancellationToken);
                if (trials.FirstOrDefault(t => t.Objective is not null) is { } best)
                {
                    await tracking.LogBatchAsync(sweep.ParentRunId, [new MetricPoint($"best_{sweep.Objective}", best.Objective!.Value, (long)(time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalMilliseconds, 0)],
                        [], [new("portal.sweep.best_run", best.Run.Id)], owner, cancellationToken);
                }

                await tracking.EndRunAsync(sweep.ParentRunId, RunStatus.Finished, null, cancellationToken);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // A trial ending makes room for the next one; a periodic pass also resumes sweeps after a restart.
        using var subscription = bus.Subscribe<JobStatusChanged>(async batch =>
        {
            foreach (var sweepId in await SweepsOfAsync(batch.Select(e => e.JobId), stoppingToken))
            {
                await SafeAdvanceAsync(sweepId, stoppingToken);
            }
        }, e => e.Status.IsFinal());
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(10));
        do
        {
            await using var db = await dbFactory.CreateDbContextAsync(stoppingToken);
            var running = await db.Sweeps.AsNoTracking().Where(s => s.Status == SweepStatus.Running).Select(s => s.Id).ToListAsync(stoppingToken);
            foreach (var sweepId in running)
            {
                await SafeAdvanceAsync(sweepId, stoppingToken);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private async Task<List<string>> SweepsOfAsync(IEnumerable<string> jobIds, CancellationToken cancellationToken)
    {
        var ids = jobIds.ToList();
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().Where(j => ids.Contains(j.Id) && j.SweepId != null).Select(j => j.SweepId!).Distinct().ToListAsync(cancellationToken);
    }

    private async Task SafeAdvanceAsync(string sweepId, CancellationToken cancellationToken)
    {
        try
        {
            await AdvanceAsync(sweepId, cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogAdvanceFailed(e, sweepId);
        }
    }

    private static double Pearson(double[] x, double[] y)
    {
        double mx = x.Average(), my = y.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (var i = 0; i < x.Length; i++)
        {
            sxy += (x[i] - mx) * (y[i] - my);
            sxx += (x[i] - mx) * (x[i] - mx);
            syy += (y[i] - my) * (y[i] - my);
        }

        return sxx == 0 || syy == 0 ? 0 : sxy / Math.Sqrt(sxx * syy);
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Sweep {SweepId} could not launch its next trials; it retries")]
    private partial void LogAdvanceFailed(Exception exception, string sweepId);
}
