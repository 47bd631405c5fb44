using System.Globalization;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Jobs;
using Portal.Domain.Models;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>
/// The automatic checks of a new version (design.md §2): the quick ones (training data validated, required
/// metrics reached) at once, the holdout ones (champion comparison, slices) by a real evaluation job whose
/// <c>outputs/evaluation.json</c> is read when it ends. Outcomes move the version to Validated or Failed.
/// </summary>
public sealed partial class ModelValidation(
    IDbContextFactory<PortalDbContext> dbFactory,
    JobService jobs,
    RunArtifacts artifacts,
    RegistryPolicies policies,
    DataDirectory dataDirectory,
    IOptions<PortalOptions> options,
    TimeProvider time,
    ILogger<ModelValidation> logger)
{
    public const string EvaluationExperiment = "model-evaluations";
    private const string ResultPath = "outputs/evaluation.json";
    private const string ScriptName = "evaluate.py";

    /// <summary>Runs the quick checks and submits the evaluation job on behalf of <paramref name="actor"/>.</summary>
    public async Task StartAsync(string modelName, int number, Actor actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.FirstAsync(v => v.ModelName == modelName && v.Version == number, cancellationToken);
        var (policy, settings) = await policies.EffectiveAsync(db, modelName, cancellationToken);
        var from = version.State;
        version.RecordCheck(await DataValidationAsync(db, version, time.UtcNow(), cancellationToken), policy.RequiredChecks, time);
        version.RecordCheck(RequiredMetrics(version, settings, time.UtcNow()), policy.RequiredChecks, time);

        var (holdout, failure) = await HoldoutAsync(db, settings.HoldoutDataset, cancellationToken);
        var champion = await ChampionAsync(db, version, cancellationToken);
        if (holdout is not null)
        {
            try
            {
                var inputs = new Dictionary<string, string> { ["holdout"] = holdout, ["candidate"] = $"model:{modelName}:{number}" };
                if (champion is not null)
                {
                    inputs["champion"] = $"model:{champion.ModelName}:{champion.Version}";
                }

                var parameters = new Dictionary<string, string>
                {
                    ["target"] = settings.Target,
                    ["metric"] = settings.Metric,
                    ["slice_column"] = settings.SliceColumn ?? "",
                    ["model"] = $"{modelName}:{number}",
                    ["champion"] = champion is null ? "" : $"{champion.ModelName}:{champion.Version}",
                };
                // The script is copied into the job's own folder: the job cannot see the data folder it is kept in.
                var job = await jobs.SubmitAsync(new JobRequest(EvaluationExperiment, $"python {ScriptName}", null, inputs, parameters, "local",
                    options.Value.Models.EvaluationTimeoutMinutes, $"evaluate {modelName} v{number}") { SystemCode = await ScriptFolderAsync(cancellationToken) }, actor, cancellationToken);
                version.BeginEvaluation(job.RunId);
                var against = champion is null ? "no champion yet" : $"against {champion.Label}";
                foreach (var name in new[] { ModelChecks.ChampionComparison, ModelChecks.SliceMetrics })
                {
                    version.RecordCheck(new ModelCheck(name, CheckStatus.Running, $"Evaluation run {job.RunId} scores it on {holdout} ({against}).", time.UtcNow()), policy.RequiredChecks, time);
                }
            }
            catch (DomainException e)
            {
                failure = $"The evaluation job could not be started: {e.Message}";
            }
        }

        if (failure is not null)
        {
            foreach (var name in new[] { ModelChecks.ChampionComparison, ModelChecks.SliceMetrics })
            {
                version.RecordCheck(new ModelCheck(name, CheckStatus.Failed, failure, time.UtcNow()), policy.RequiredChecks, time);
            }
        }

        AuditStateChange(db, version, from);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Reads the result of an ended evaluation job into the checks of the version it scored.</summary>
    public async Task CompleteAsync(string evaluationRunId, CancellationToken cancellationToken)
    {
        if (await jobs.FindByRunAsync(evaluationRunId, cancellationToken) is not { } job || !job.Status.IsFinal())
        {
            return;
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.EvaluationRunId == evaluationRunId && v.State == ModelState.Registered, cancellationToken);
        if (version is null || version.Checks.All(c => c.IsFinal))
        {
            return;
        }

        var (policy, settings) = await policies.EffectiveAsync(db, version.ModelName, cancellationToken);
        var champion = await ChampionAsync(db, version, cancellationToken);
        var now = time.UtcNow();
        var from = version.State;
        var evaluation = job.Status == JobStatus.Completed ? await ReadAsync(evaluationRunId, settings, champion, cancellationToken) : null;
        if (evaluation is null)
        {
            var why = job.Status == JobStatus.Completed
                ? $"Evaluation run {evaluationRunId} ended without a readable {ResultPath}."
                : $"Evaluation run {evaluationRunId} {job.Status.ToString().ToLowerInvariant()}: {job.Reason ?? "see its log"}.";
            version.RecordCheck(new ModelCheck(ModelChecks.ChampionComparison, CheckStatus.Failed, why, now), policy.RequiredChecks, time);
            version.RecordCheck(new ModelCheck(ModelChecks.SliceMetrics, CheckStatus.Failed, why, now), policy.RequiredChecks, time);
        }
        else
        {
            version.RecordEvaluation(evaluation);
            version.RecordCheck(ChampionCheck(evaluation, settings, now), policy.RequiredChecks, time);
            version.RecordCheck(SliceCheck(evaluation, settings, now), policy.RequiredChecks, time);
        }

        AuditStateChange(db, version, from);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// Versions registered a while ago whose checks never started (the database was busy just after the
    /// version was stored, or the portal stopped): the worker starts them on their author's behalf.
    /// </summary>
    public async Task<int> StartStalledAsync(CancellationToken cancellationToken)
    {
        var before = time.UtcNow() - TimeSpan.FromMinutes(1);
        List<ModelVersion> stalled;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            stalled = (await db.ModelVersions.AsNoTracking()
                    .Where(v => v.State == ModelState.Registered && v.EvaluationRunId == null && v.CreatedAt < before)
                    .OrderBy(v => v.CreatedAt).Take(20).ToListAsync(cancellationToken))
                .Where(v => v.Checks.All(c => c.Status == CheckStatus.Pending)).ToList();
        }

        foreach (var version in stalled)
        {
            // Only data scientists and administrators register versions, so their author may submit the evaluation.
            await StartAsync(version.ModelName, version.Version, new Actor(version.Author, [Domain.Identity.Roles.DataScientist]), cancellationToken);
        }

        return stalled.Count;
    }

    /// <summary>Evaluation runs whose job ended while nobody was listening (a restart), for the worker's sweep.</summary>
    public async Task<IReadOnlyList<string>> WaitingEvaluationsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelVersions.AsNoTracking().Where(v => v.State == ModelState.Registered && v.EvaluationRunId != null)
            .Join(db.Jobs.AsNoTracking(), v => v.EvaluationRunId, j => j.RunId, (v, j) => new { v.EvaluationRunId, j.Status })
            .Where(x => x.Status == JobStatus.Completed || x.Status == JobStatus.Failed || x.Status == JobStatus.Canceled)
            .Select(x => x.EvaluationRunId!).ToListAsync(cancellationToken);
    }

    internal static void AuditStateChange(PortalDbContext db, ModelVersion version, ModelState from, Actor? actor = null, TimeProvider? clock = null)
    {
        if (version.State != from)
        {
            db.AuditEntries.Add(AuditEntry.Record(actor ?? Actor.System, AuditActions.ModelStateChanged, $"model:{version.ModelName}:{version.Version}", clock ?? TimeProvider.System,
                before: $"state={from}", after: $"state={version.State}", reason: version.StateReason));
        }
    }

    private static async Task<ModelCheck> DataValidationAsync(PortalDbContext db, ModelVersion version, DateTime now, CancellationToken cancellationToken)
    {
        if (version.TrainingDatasets.Count == 0)
        {
            return new(ModelChecks.DataValidation, CheckStatus.Failed, $"Run {version.SourceRunId} recorded no training dataset, so there is no validation to show.", now);
        }

        var results = new List<(string Ref, ValidationStatus? Status)>();
        foreach (var reference in version.TrainingDatasets)
        {
            results.Add((reference, (await DatasetCatalog.VersionByRefAsync(db, reference, cancellationToken))?.Status));
        }

        var bad = results.Where(r => r.Status != ValidationStatus.Passed).ToList();
        return bad.Count == 0
            ? new(ModelChecks.DataValidation, CheckStatus.Passed, $"{string.Join(", ", results.Select(r => r.Ref))} passed {(results.Count == 1 ? "its" : "their")} data contract.", now)
            : new(ModelChecks.DataValidation, CheckStatus.Failed,
                string.Join(" ", bad.Select(r => r.Status is null ? $"{r.Ref} no longer exists." : $"{r.Ref} failed its data contract.")), now);
    }

    private static ModelCheck RequiredMetrics(ModelVersion version, ValidationSettings settings, DateTime now)
    {
        if (settings.RequiredMetrics.Count == 0)
        {
            return new(ModelChecks.RequiredMetrics, CheckStatus.Passed, "No metrics are required.", now);
        }

        var problems = new List<string>();
        var fine = new List<string>();
        foreach (var (name, threshold) in settings.RequiredMetrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var lower = ValidationSettings.LowerIsBetter(name);
            var sign = lower ? "≤" : "≥";
            if (!version.Metrics.TryGetValue(name, out var value) || !double.IsFinite(value))
            {
                problems.Add($"{name} is missing (needs {sign} {Number(threshold)}).");
            }
            else if (lower ? value > threshold : value < threshold)
            {
                problems.Add($"{name} is {Number(value)}; it must be {sign} {Number(threshold)}.");
            }
            else
            {
                fine.Add($"{name} {Number(value)} {sign} {Number(threshold)}");
            }
        }

        return problems.Count == 0
            ? new(ModelChecks.RequiredMetrics, CheckStatus.Passed, string.Join("; ", fine) + ".", now)
            : new(ModelChecks.RequiredMetrics, CheckStatus.Failed, string.Join(" ", problems), now);
    }

    private static ModelCheck ChampionCheck(ModelEvaluation evaluation, ValidationSettings settings, DateTime now)
    {
        var on = $"on {evaluation.HoldoutDataset} ({evaluation.Rows:N0} rows)";
        if (evaluation.Champion is null || evaluation.ChampionLabel is null)
        {
            return new(ModelChecks.ChampionComparison, CheckStatus.Passed,
                $"No version is in production or approved yet, so there is no champion; {evaluation.Metric} {Number(evaluation.Candidate)} {on}.", now);
        }

        var shortfall = evaluation.Shortfall!.Value;
        var compared = $"{evaluation.Metric} {Number(evaluation.Candidate)} against {Number(evaluation.Champion.Value)} for {evaluation.ChampionLabel} {on}";
        return shortfall <= settings.Margin + 1e-12
            ? new(ModelChecks.ChampionComparison, CheckStatus.Passed, $"{compared}; allowed to be worse by at most {Number(settings.Margin)}.", now)
            : new(ModelChecks.ChampionComparison, CheckStatus.Failed, $"{compared}: worse by {Number(shortfall)}, more than the margin of {Number(settings.Margin)}.", now);
    }

    private static ModelCheck SliceCheck(ModelEvaluation evaluation, ValidationSettings settings, DateTime now)
    {
        if (evaluation.SliceColumn is null)
        {
            return new(ModelChecks.SliceMetrics, CheckStatus.Passed, "No slice column is configured.", now);
        }

        var scored = evaluation.ComparableSlices(settings.MinSliceRows);
        var small = evaluation.Slices.Count(s => s.Rows < settings.MinSliceRows);
        var leftOut = small == 0 ? "" : $" ({small} value(s) with fewer than {settings.MinSliceRows} rows left out)";
        if (scored.Count < 2)
        {
            return new(ModelChecks.SliceMetrics, CheckStatus.Passed, $"Fewer than two values of {evaluation.SliceColumn} could be scored{leftOut}; nothing to compare.", now);
        }

        var worst = evaluation.HigherIsBetter ? scored.MinBy(s => s.Candidate)! : scored.MaxBy(s => s.Candidate)!;
        var best = evaluation.HigherIsBetter ? scored.MaxBy(s => s.Candidate)! : scored.MinBy(s => s.Candidate)!;
        var gap = Math.Abs(best.Candidate!.Value - worst.Candidate!.Value);
        var text = $"{evaluation.Metric} by {evaluation.SliceColumn}: from {Number(worst.Candidate.Value)} ({worst.Slice}) to {Number(best.Candidate.Value)} ({best.Slice}), a gap of {Number(gap)}{leftOut}";
        return gap <= settings.MaxSliceGap + 1e-12
            ? new(ModelChecks.SliceMetrics, CheckStatus.Passed, $"{text}; at most {Number(settings.MaxSliceGap)} is allowed.", now)
            : new(ModelChecks.SliceMetrics, CheckStatus.Failed, $"{text}, more than the {Number(settings.MaxSliceGap)} allowed.", now);
    }

    private async Task<ModelEvaluation?> ReadAsync(string runId, ValidationSettings settings, ModelVersion? champion, CancellationToken cancellationToken)
    {
        if (await artifacts.OpenAsync(runId, ResultPath, cancellationToken) is not { } found)
        {
            return null;
        }

        await using var content = found.Content;
        try
        {
            var result = await JsonSerializer.DeserializeAsync<EvaluationResult>(content, JsonOptions, cancellationToken);
            if (result?.Candidate is not { } candidate)
            {
                return null;
            }

            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var holdout = (await db.Jobs.AsNoTracking().FirstAsync(j => j.RunId == runId, cancellationToken)).Inputs.GetValueOrDefault("holdout") ?? settings.HoldoutDataset;
            return new ModelEvaluation(result.Metric ?? settings.Metric, settings.HigherIsBetter, candidate, result.Champion,
                result.Champion is null ? null : champion?.Label, holdout, result.Rows, result.SliceColumn,
                [.. (result.Slices ?? []).Select(s => new SliceResult(s.Slice ?? "", s.Rows, s.Candidate, s.Champion))], runId);
        }
        catch (JsonException e)
        {
            LogUnreadable(e, runId);
            return null;
        }
    }

    /// <summary>
    /// The dataset version both models are scored on: a pinned <c>name:version</c>, or the newest version of
    /// <c>name</c> that passed validation. Evidence computed on rows the data contract rejected would mislead
    /// the reviewer, so a pinned version that failed validation is refused with the reason.
    /// </summary>
    private static async Task<(string? Ref, string? Problem)> HoldoutAsync(PortalDbContext db, string setting, CancellationToken cancellationToken)
    {
        var parts = setting.Trim().Split(':');
        var name = parts[0];
        var versions = db.DatasetVersions.AsNoTracking().Join(db.Datasets.AsNoTracking().Where(d => d.Name == name), v => v.DatasetId, d => d.Id, (v, d) => new { v.Number, v.Status });
        const string where = "an Admin sets the holdout on the model's Policy tab";
        if (parts.Length > 1 && int.TryParse(parts[1], CultureInfo.InvariantCulture, out var pinned))
        {
            var version = await versions.Where(v => v.Number == pinned).FirstOrDefaultAsync(cancellationToken);
            return version is null ? (null, $"The holdout dataset:{name}:{pinned} does not exist; {where}.")
                : version.Status != ValidationStatus.Passed ? (null, $"The holdout dataset:{name}:{pinned} failed its data contract, so scores on it would mislead; pin a version that passed ({where}).")
                : ($"dataset:{name}:{pinned}", null);
        }

        if (!await versions.AnyAsync(cancellationToken))
        {
            return (null, $"The holdout dataset '{name}' does not exist; {where}.");
        }

        var newestPassed = await versions.Where(v => v.Status == ValidationStatus.Passed).MaxAsync(v => (int?)v.Number, cancellationToken);
        return newestPassed is { } number
            ? ($"dataset:{name}:{number}", null)
            : (null, $"No version of the holdout dataset '{name}' passed its data contract, so there is nothing trustworthy to score on; {where}.");
    }

    /// <summary>The version in production, else the last approved one: what the candidate must not be worse than.</summary>
    private static async Task<ModelVersion?> ChampionAsync(PortalDbContext db, ModelVersion candidate, CancellationToken cancellationToken)
    {
        var others = db.ModelVersions.AsNoTracking().Where(v => v.ModelName == candidate.ModelName && v.Version != candidate.Version);
        return await others.Where(v => v.State == ModelState.Deployed).OrderByDescending(v => v.StateChangedAt).FirstOrDefaultAsync(cancellationToken)
            ?? await others.Where(v => v.State == ModelState.Approved).OrderByDescending(v => v.StateChangedAt).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>The folder of the evaluation script, written into the data folder so a published portal has it too.</summary>
    private async Task<string> ScriptFolderAsync(CancellationToken cancellationToken)
    {
        var folder = Path.Combine(dataDirectory.Root, "tools", "evaluation");
        var path = Path.Combine(folder, ScriptName);
        await using var resource = typeof(ModelValidation).Assembly.GetManifestResourceStream("models/evaluate.py")
            ?? throw new InvalidOperationException("The evaluation script is missing from the build.");
        using var reader = new StreamReader(resource);
        var text = await reader.ReadToEndAsync(cancellationToken);
        if (!File.Exists(path) || await File.ReadAllTextAsync(path, cancellationToken) != text)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            await File.WriteAllTextAsync(path, text, cancellationToken);
        }

        return folder;
    }

    private static string Number(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private sealed record EvaluationResult(string? Metric, long Rows, double? Candidate, double? Champion, string? SliceColumn, List<EvaluationSlice>? Slices);

    private sealed record EvaluationSlice(string? Slice, long Rows, double? Candidate, double? Champion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The evaluation result of run {RunId} could not be read")]
    private partial void LogUnreadable(Exception exception, string runId);
}
