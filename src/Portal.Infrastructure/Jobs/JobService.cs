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
}

/// <summary>Refused job input, per field.</summary>
public sealed class JobRequestException(FieldErrors errors) : DomainException(errors.ToString())
{
    public FieldErrors Errors { get; } = errors;
}

/// <summary>
/// Submits, cancels and reads jobs. Checks everything a person can get wrong before anything is written
/// (experiment name, command, code folder, inputs, params), then creates the run and the job together.
/// </summary>
public sealed class JobService(
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

    /// <summary>Everything a person can get wrong in a request, checked before anything is written.</summary>
    /// <exception cref="JobRequestException">What is wrong, per field.</exception>
    public async Task<(string Experiment, string? CodeFolder, Dictionary<string, string> Inputs, IReadOnlyDictionary<string, string> Params, TimeSpan Timeout)> CheckAsync(
        JobRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var errors = new FieldErrors();
        var experimentName = request.Experiment?.Trim(' ');
        if (string.IsNullOrEmpty(experimentName))
        {
            errors.Add("experiment", "experiment: name the experiment the run belongs to.");
        }
        else if (experimentName.Length > TrackingRules.MaxExperimentNameLength)
        {
            errors.Add("experiment", $"experiment: at most {TrackingRules.MaxExperimentNameLength} characters.");
        }
        else if (Names.FreeTextProblem(experimentName, "experiment", TrackingRules.MaxExperimentNameLength) is { } experimentProblem)
        {
            errors.Add("experiment", experimentProblem);
        }

        if (Run.NameProblem(request.RunName) is { } runNameProblem)
        {
            errors.Add("runName", runNameProblem);
        }

        var codeFolder = request.SystemCode ?? CheckCodePath(request.CodePath, errors);
        CheckCommand(request.Command, codeFolder, errors);
        if (request.Compute is { } compute && compute != "local")
        {
            errors.Add("compute", $"compute: '{compute}' is not available; this portal runs jobs on 'local'.");
        }

        var timeout = TimeSpan.FromMinutes(request.TimeoutMinutes ?? options.Value.Jobs.DefaultTimeoutMinutes);
        if (request.TimeoutMinutes is { } minutes && (double.IsNaN(minutes) || minutes <= 0 || minutes > 7 * 24 * 60))
        {
            errors.Add("timeoutMinutes", "timeoutMinutes: between 0 and 10080 (one week).");
        }

        var inputs = await CheckInputsAsync(request.Inputs, errors, cancellationToken);
        var parameters = request.Params ?? new Dictionary<string, string>();
        if (parameters.Count > MaxParams)
        {
            errors.Add("params", $"params: at most {MaxParams}.");
        }

        foreach (var (key, value) in parameters)
        {
            if (TrackingRules.KeyProblem(key, "key") is { } problem)
            {
                errors.Add("params", $"params.{key}: {problem}");
            }
            else if ((value ?? "").Length > TrackingRules.MaxParamValueLength)
            {
                errors.Add("params", $"params.{key}: at most {TrackingRules.MaxParamValueLength} characters.");
            }
            else if ((value ?? "").Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("params", $"params.{key}: a value cannot hold a NUL character (it becomes an environment variable).");
            }
        }

        CheckEnvironment(request.Environment, errors);

        if (!errors.IsEmpty)
        {
            throw new JobRequestException(errors);
        }

        return (experimentName!, codeFolder, inputs, parameters, timeout);

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
    public async Task<IReadOnlyList<Job>> MineAsync(string userName, int take, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var jobs = await db.Jobs.AsNoTracking().Where(j => j.SubmittedBy == userName)
            .OrderByDescending(j => j.SubmittedAt).Take(take * 4).ToListAsync(cancellationToken);
        return [.. jobs.OrderBy(j => j.Status.IsFinal()).ThenByDescending(j => j.SubmittedAt).Take(take)];
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
            ?? throw new KeyNotFoundException($"There is no job {jobId}.");
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

    /// <summary>Variables a job may add to its environment: plain names, none of those the runner sets itself.</summary>
    private static void CheckEnvironment(IReadOnlyDictionary<string, string>? environment, FieldErrors errors)
    {
        if (environment is null)
        {
            return;
        }

        if (environment.Count > MaxEnvironment)
        {
            errors.Add("environment", $"environment: at most {MaxEnvironment} variables.");
            return;
        }

        foreach (var (name, value) in environment)
        {
            if (Names.IdentifierProblem(name, "environment", MaxEnvironmentNameLength, allowLower: true) is { } problem)
            {
                errors.Add("environment", problem);
            }
            else if (ReservedEnvironment.Contains(name) || ReservedEnvironmentPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)))
            {
                errors.Add("environment", $"environment.{name}: the portal sets this variable itself (HOME, MLFLOW_*, PORTAL_*, INPUT_*, PARAM_*).");
            }
            else if (value is null || value.Length > TrackingRules.MaxParamValueLength || value.Contains('\0', StringComparison.Ordinal))
            {
                errors.Add("environment", $"environment.{name}: a value of at most {TrackingRules.MaxParamValueLength} characters without NUL.");
            }
        }
    }

    private string? CheckCodePath(string? codePath, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(codePath))
        {
            return null;
        }

        if (codePath.Any(Names.IsInvisible))
        {
            errors.Add("codePath", $"codePath: '{Names.Visible(codePath)}' holds a control or invisible character; name a folder inside the code root, such as 'sklearn-classifier'.");
            return null;
        }

        var relative = codePath.Trim().Trim('/');
        var root = CodeRoot;
        var full = Path.GetFullPath(Path.Combine(root, relative));
        if (relative.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) || relative.Contains('\\', StringComparison.Ordinal)
            || !full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            errors.Add("codePath", $"codePath: '{codePath}' must be a folder inside the code root, such as 'sklearn-classifier'.");
            return null;
        }

        if (!Directory.Exists(full))
        {
            errors.Add("codePath", $"codePath: there is no folder '{relative}' in the code root; samples are {string.Join(", ", Samples())}.");
            return null;
        }

        return full;
    }

    private void CheckCommand(string? command, string? codeFolder, FieldErrors errors)
    {
        if (string.IsNullOrWhiteSpace(command))
        {
            errors.Add("command", "command: enter the command to run, e.g. 'python3 train.py'.");
            return;
        }

        if (command.Length > Job.MaxCommandLength)
        {
            errors.Add("command", $"command: at most {Job.MaxCommandLength} characters.");
            return;
        }

        // Newlines and tabs make multi-line scripts; other control characters (NUL above all) cannot reach a process.
        if (command.Any(c => Names.IsInvisible(c) && c is not ('\n' or '\r' or '\t')))
        {
            errors.Add("command", $"command: '{Names.Visible(command)}' holds a control or invisible character other than a newline or tab.");
            return;
        }

        var program = JobCommand.ProgramOf(command);
        if (JobCommand.ResolveProgram(program, codeFolder, options.Value.Local.Python) is null)
        {
            errors.Add("command", $"command: '{program}' was not found on this machine (not on PATH{(codeFolder is null ? "" : " nor in the code folder")}).");
        }
    }

    private async Task<Dictionary<string, string>> CheckInputsAsync(IReadOnlyDictionary<string, string>? inputs, FieldErrors errors, CancellationToken cancellationToken)
    {
        var checkedInputs = new Dictionary<string, string>(StringComparer.Ordinal);
        if (inputs is null)
        {
            return checkedInputs;
        }

        if (inputs.Count > MaxInputs)
        {
            errors.Add("inputs", $"inputs: at most {MaxInputs}.");
            return checkedInputs;
        }

        foreach (var (name, reference) in inputs)
        {
            if (Names.IdentifierProblem(name, "inputs", 64) is not null)
            {
                errors.Add("inputs", $"inputs: '{Names.Visible(name)}' is not an input name; use letters, digits and _ (it becomes INPUT_{{NAME}}).");
                continue;
            }

            if (!ArtifactRef.TryParse(reference, out var artifact, out var problem) || artifact.Kind is not (ArtifactKind.Dataset or ArtifactKind.Model))
            {
                errors.Add("inputs", $"inputs.{name}: {(artifact is null ? problem : "an input is a dataset version, dataset:<name>:<version>, or a model version, model:<name>:<version>")}");
                continue;
            }

            var parts = artifact.Value.Split(':');
            if (artifact.Kind == ArtifactKind.Model)
            {
                var number = int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
                await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
                if (!await db.ModelVersions.AnyAsync(v => v.ModelName == parts[0] && v.Version == number, cancellationToken))
                {
                    errors.Add("inputs", $"inputs.{name}: there is no model version {reference}.");
                    continue;
                }
            }
            else if (await datasets.FindVersionAsync(parts[0], int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture), cancellationToken) is null)
            {
                errors.Add("inputs", $"inputs.{name}: there is no dataset version {reference}.");
                continue;
            }

            checkedInputs[name!] = artifact.ToString();
        }

        return checkedInputs;
    }
}
