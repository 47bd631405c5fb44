using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Lineage;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Jobs;

/// <summary>What someone asks to run (api.md <c>POST /api/v1/jobs</c>).</summary>
public sealed record JobRequest(
    string? Experiment,
    string? Command,
    string? CodePath = null,
    IReadOnlyDictionary<string, string>? Inputs = null,
    IReadOnlyDictionary<string, string>? Params = null,
    string? Compute = null,
    double? TimeoutMinutes = null,
    string? RunName = null,
    string? ParentRunId = null,
    string? SweepId = null,
    IReadOnlyDictionary<string, string>? Environment = null)
{
    /// <summary>
    /// A folder of the portal's own tools copied in as the job's code (the registry's evaluation script);
    /// set by the portal only, never from a request. Such a job is a system job.
    /// </summary>
    public string? SystemCode { get; init; }

    /// <summary>Tags the portal itself puts on the run (a retrain's alert); never from a request.</summary>
    public IReadOnlyDictionary<string, string>? PortalTags { get; init; }
}

/// <summary>
/// Submits, cancels and reads jobs. Checks everything a person can get wrong before anything is written
/// (experiment name, command, code folder, inputs, params), then creates the run and the job together.
/// </summary>
public sealed partial class JobService(
    IDbContextFactory<PortalDbContext> dbFactory,
    TrackingStore tracking,
    DatasetCatalog datasets,
    IWorkspaceBackend backend,
    IOptions<PortalOptions> options,
    IHostEnvironment environment,
    TimeProvider time)
{
    public const int MaxInputs = 20;
    public const int MaxParams = 100;
    public const int MaxEnvironment = 50;
    public const int MaxEnvironmentNameLength = 128;

    private static readonly HashSet<string> ReservedEnvironment = new(StringComparer.Ordinal) { "HOME", "PORTAL_JOB_ID", "PYTHONUNBUFFERED" };
    private static readonly string[] ReservedEnvironmentPrefixes = ["MLFLOW_", "PORTAL_", "INPUT_", "PARAM_"];

    public static bool CanSubmit(Actor actor) => TrackingStore.CanWrite(actor);

    private static bool IsDataset(string reference) => reference.StartsWith("dataset:", StringComparison.Ordinal);

    public string CodeRoot => Path.TrimEndingDirectorySeparator(DataDirectory.ResolveFolder(options.Value.Jobs.CodeRoot, environment.ContentRootPath));

    /// <summary>Sample projects a job can start from: the folders of the code root.</summary>
    public IReadOnlyList<string> Samples() =>
        Directory.Exists(CodeRoot)
            ? [.. Directory.GetDirectories(CodeRoot).Select(Path.GetFileName).OfType<string>().Where(n => !n.StartsWith('.')).Order(StringComparer.Ordinal)]
            : [];

    public async Task<Job> SubmitAsync(JobRequest request, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(actor);
        if (!CanSubmit(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can submit jobs.");
        }

        var (experimentName, codeFolder, inputs, parameters, timeout) = await CheckAsync(request, cancellationToken);
        // Inputs are copied into the job's folder raw: only someone who may read their personal data gets them there.
        if (!Domain.Datasets.PersonalData.MayReadRaw(actor) && await datasets.SensitiveAmongAsync(inputs.Values, cancellationToken) is { Count: > 0 } sensitive)
        {
            throw new NotPermittedException(Domain.Datasets.PersonalData.Refusal(string.Join(", ", sensitive.Select(s => s.Reference)), sensitive.SelectMany(s => s.Columns).Distinct(StringComparer.Ordinal)));
        }

        var jobEnvironment = request.Environment ?? new Dictionary<string, string>();
        var codePath = request.SystemCode ?? (codeFolder is null ? null : request.CodePath!.Trim().Trim('/'));
        var experiment = await tracking.GetOrCreateExperimentAsync(experimentName!, actor, cancellationToken);
        var tags = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["mlflow.source.type"] = "JOB",
            ["mlflow.source.name"] = request.Command!.Trim(),
            ["portal.compute"] = "local",
        };
        if (request.ParentRunId is { } parent)
        {
            tags[TrackingRules.ParentRunTag] = parent;
        }

        foreach (var (key, value) in request.PortalTags ?? new Dictionary<string, string>())
        {
            tags[key] = value;
        }

        if (codeFolder is not null && request.SystemCode is null)
        {
            tags["portal.codePath"] = codePath!;
        }

        // The run (with its params and inputs), the job and its lineage are one write: all of it or none of it.
        Job job;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            var run = await tracking.NewRunAsync(db, experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), request.RunName, null, tags, actor, cancellationToken);
            // Params given at submission are the run's params from the start; the script may log them again (same value).
            foreach (var (key, value) in parameters)
            {
                run.LogParam(key, value ?? "");
            }

            foreach (var reference in inputs.Values.Where(IsDataset))
            {
                run.AddInput(reference);
            }

            job = Job.Submit(run.Id, experiment.Id, request.Command!, codePath,
                inputs, parameters.ToDictionary(p => p.Key, p => p.Value ?? "", StringComparer.Ordinal), timeout, actor, time, request.SweepId,
                jobEnvironment, isSystem: request.SystemCode is not null);
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            db.Jobs.Add(job);
            foreach (var reference in inputs.Values.Distinct(StringComparer.Ordinal))
            {
                db.LineageEdges.Add(LineageEdge.Record(ArtifactRef.Parse(reference), ArtifactRef.Run(run.Id), LineageRelation.Consumed, actor, time, "job"));
            }

            await TrackingStore.AddRunAsync(db, run, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        await backend.SubmitAsync(job.Id, cancellationToken);
        return job;
    }

    /// <summary>Dataset versions a job can take as inputs, newest first.</summary>
    public async Task<IReadOnlyList<string>> InputChoicesAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var versions = await db.DatasetVersions.AsNoTracking()
            .Join(db.Datasets.AsNoTracking(), v => v.DatasetId, d => d.Id, (v, d) => new { d.Name, v.Number, v.CreatedAt })
            .OrderByDescending(v => v.CreatedAt).Take(500).ToListAsync(cancellationToken);
        return [.. versions.Select(v => ArtifactRef.Dataset(v.Name, v.Number).ToString())];
    }

    public async Task<Job?> FindAsync(string jobId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken);
    }

    public async Task<Job?> FindByRunAsync(string runId, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Jobs.AsNoTracking().FirstOrDefaultAsync(j => j.RunId == runId, cancellationToken);
    }

    /// <summary>Someone's jobs: open ones first, then the latest finished, newest first.</summary>
    /// <summary>
    /// A person's own jobs, open ones first, each named by its run and experiment. The portal's own jobs
    /// (a model version's evaluation) are kept apart: they run for the registry, not for the person.
    /// </summary>
    public async Task<IReadOnlyList<NamedJob>> MineAsync(string userName, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.SubmittedBy == userName && !j.IsSystem)
            .OrderByDescending(j => j.SubmittedAt).Take(take * 4)
            .Join(db.Runs.AsNoTracking(), j => j.RunId, r => r.Id, (j, r) => new { Job = j, Run = r.Name, r.ExperimentId })
            .Join(db.Experiments.AsNoTracking(), x => x.ExperimentId, e => e.Id, (x, e) => new NamedJob(x.Job, x.Run, e.Name))
            .ToListAsync(cancellationToken);
        return [.. jobs.OrderBy(j => j.Job.Status.IsFinal()).ThenByDescending(j => j.Job.SubmittedAt).Take(take)];
    }

    /// <summary>The queue: jobs not finished, then the latest finished ones, newest first.</summary>
    public async Task<IReadOnlyList<Job>> RecentAsync(int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var open = await db.Jobs.AsNoTracking().Where(j => j.Status == JobStatus.Queued || j.Status == JobStatus.Running)
            .OrderBy(j => j.SubmittedAt).ToListAsync(cancellationToken);
        var done = await db.Jobs.AsNoTracking().Where(j => j.Status != JobStatus.Queued && j.Status != JobStatus.Running)
            .OrderByDescending(j => j.SubmittedAt).Take(take).ToListAsync(cancellationToken);
        return [.. open, .. done];
    }

    /// <summary>
    /// Cancels a job. Cancelling a job that already ended changes nothing and says so; cancelling twice is
    /// the same as once.
    /// </summary>
    public async Task<(Job Job, string Message)> CancelAsync(string jobId, Actor actor, CancellationToken cancellationToken)
    {
        // Who may cancel is the job's own rule (its submitter, an administrator; the portal for its sweeps' trials).
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var job = await db.Jobs.FirstOrDefaultAsync(j => j.Id == jobId, cancellationToken)
            ?? throw new NotFoundException($"There is no job {jobId}.");
        if (job.CancelRefusal(actor) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        if (job.Status.IsFinal())
        {
            return (job, $"Job {jobId} had already ended ({job.Status}); nothing to cancel.");
        }

        var again = job.CancelRequested;
        job.RequestCancel(actor, time);
        await db.SaveChangesAsync(cancellationToken);
        if (job.Status == JobStatus.Canceled)
        {
            await tracking.EndRunAsync(job.RunId, RunStatus.Killed, null, cancellationToken);
            return (job, $"Job {jobId} was canceled before it started.");
        }

        await backend.CancelAsync(jobId, cancellationToken);
        return (job, again ? $"Job {jobId} is already being canceled." : $"Job {jobId} is being canceled; its processes are being stopped.");
    }
}

/// <summary>A job with the names people know it by: its run's and its experiment's.</summary>
public sealed record NamedJob(Job Job, string RunName, string ExperimentName);
