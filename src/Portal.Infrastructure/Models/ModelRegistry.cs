using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Experiments;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Domain.Ports;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>A registered model with its versions' numbers and states, for lists.</summary>
public sealed record ModelSummary(RegisteredModel Model, int Versions, int? LatestVersion, int? DeployedVersion, int? ApprovedVersion, int PendingApproval = 0, DateTime? LastChange = null);

/// <summary>A page of the models list: filter by name, sort by name, versions or last change.</summary>
public sealed record ModelQuery(string? NameContains = null, string? OrderBy = null, bool Descending = false, int Skip = 0, int Take = 25);

/// <summary>
/// The model registry: versions registered from a run's artifact (bound to its SHA-256), with lineage
/// run → model and dataset → run → model, and an audit entry for every change.
/// </summary>
public sealed class ModelRegistry(IDbContextFactory<PortalDbContext> dbFactory, IArtifactStore store, ModelValidation validation, RegistryPolicies policies, TimeProvider time)
{
    // One registration per model at a time, so version numbers are never raced.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public async Task<ModelVersion> RegisterVersionAsync(string name, string? runId, string? artifactPath, Actor actor, CancellationToken cancellationToken,
        string? description = null, IReadOnlyList<string>? tags = null)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!RegisteredModel.CanRegister(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can register model versions.");
        }

        if (DatasetNames.Problem(name) is { } nameProblem)
        {
            throw new InvalidInputException("name", nameProblem.Replace("dataset", "model", StringComparison.OrdinalIgnoreCase));
        }

        if (string.IsNullOrWhiteSpace(runId))
        {
            throw new InvalidInputException("runId", "runId: name the run whose artifact becomes the model.");
        }

        // The source must be a file the run stored: a URL, an absolute path or one that climbs out is refused.
        var path = artifactPath ?? "";
        try
        {
            path = RunArtifacts.Decode(path.Trim());
        }
        catch (TrackingException e)
        {
            throw new InvalidInputException("artifactPath", $"artifactPath: {e.Message}");
        }

        if (RunArtifacts.PathProblem(path) is { } pathProblem)
        {
            throw new InvalidInputException("artifactPath", $"artifactPath: {pathProblem} It names a file of the run, such as outputs/model.pkl.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new InvalidInputException("runId", $"runId: there is no run {runId}.");
        // A single file (outputs/model.pkl), or an MLflow model folder (model/ with its MLmodel) bound by its manifest.
        var artifact = await db.RunArtifacts.AsNoTracking().FirstOrDefaultAsync(a => a.RunId == runId && a.Path == path, cancellationToken);
        (string Digest, MlflowModel Model, string? InputExample)? folder = null;
        if (artifact is null)
        {
            var files = await MlflowFolders.FilesAsync(db, runId, path, cancellationToken);
            folder = files.Count > 0
                ? await MlflowFolders.BindAsync(store, files, runId, path, cancellationToken)
                : throw new InvalidInputException("artifactPath", $"artifactPath: run {runId} has no artifact or folder '{path}' (log a model with mlflow.<flavor>.log_model, or name a file it stored).");
        }

        var digest = folder?.Digest ?? artifact!.Hash;

        var gate = Gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
        ModelVersion version;
        await gate.WaitAsync(cancellationToken);
        try
        {
            var model = await db.RegisteredModels.FirstOrDefaultAsync(m => m.Name == name, cancellationToken);
            if (model is null)
            {
                model = RegisteredModel.Create(name, actor, time);
                db.RegisteredModels.Add(model);
            }

            var number = (await db.ModelVersions.Where(v => v.ModelName == name).MaxAsync(v => (int?)v.Version, cancellationToken) ?? 0) + 1;
            var facts = await FactsAsync(db, run, name, description, tags, cancellationToken);
            if (folder is { } mlflow)
            {
                // The MLmodel signature lists what the model reads; the training data's schema may hold more columns.
                facts = facts with
                {
                    Signature = mlflow.Model.Signature is { Count: > 0 } signature ? signature : facts.Signature,
                    Mlflow = new MlflowModelFacts(mlflow.Model.Flavors, mlflow.InputExample),
                };
            }

            version = ModelVersion.Register(name, number, run.Id, path, digest, actor, time, facts);
            db.ModelVersions.Add(version);
            var modelRef = ArtifactRef.Parse($"model:{name}:{number}");
            db.LineageEdges.Add(LineageEdge.Record(ArtifactRef.Run(run.Id), modelRef, LineageRelation.RegisteredFrom, actor, time));
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelVersionRegistered, modelRef.ToString(), time,
                after: $"state={version.State}; run={run.Id}; artifact={path}{(folder is null ? "" : " (MLflow model folder)")}; sha256={digest}"));
            await db.SaveChangesAsync(cancellationToken);
        }
        finally
        {
            gate.Release();
        }

        try
        {
            await validation.StartAsync(name, version.Version, actor, cancellationToken);
        }
        catch (Exception e) when (DatabaseErrors.IsTransient(e))
        {
            // The version is stored whole; its checks start once the database is free (RegistryWorker), so a
            // client must not register it again.
        }

        return (await FindVersionAsync(name, version.Version, cancellationToken))!;
    }

    /// <summary>Replaces the model card. It is fixed once review starts: reviewers decide on what they read.</summary>
    public async Task EditCardAsync(string name, int number, ModelCard card, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(card);
        ArgumentNullException.ThrowIfNull(actor);
        if (!RegisteredModel.CanRegister(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can edit model cards.");
        }

        if (card.Problem() is { } problem)
        {
            throw new InvalidInputException("card", problem);
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == name && v.Version == number, cancellationToken)
            ?? throw new NotFoundException($"There is no version {number} of model '{name}'.");
        var changed = card.Sections().Zip(version.Card.Sections()).Where(p => p.First.Markdown != p.Second.Markdown).Select(p => p.First.Title).ToList();
        version.EditCard(card);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelCardEdited, $"model:{name}:{number}", time,
            after: changed.Count == 0 ? "no section changed" : $"sections changed: {string.Join(", ", changed)}"));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Retires an approved version, with a reason; audited. One serving traffic is refused.</summary>
    public async Task ArchiveAsync(string name, int number, string? reason, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var version = await db.ModelVersions.FirstOrDefaultAsync(v => v.ModelName == name && v.Version == number, cancellationToken)
            ?? throw new NotFoundException($"There is no version {number} of model '{name}'.");
        if (!version.IsRetiredBy(actor))
        {
            throw new NotPermittedException($"Only the author of {version.Label}, Ops or an administrator can archive it.");
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException("reason", "reason: say why the version is archived; it is kept with the version.");
        }

        var from = version.State;
        version.Archive(reason, time);
        ModelValidation.AuditStateChange(db, version, from, actor, time);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// The current SHA-256 of the run file (or the manifest of the run folder) a version was made from; it
    /// differs from the bound one if a file was replaced, added or removed.
    /// </summary>
    public async Task<string?> CurrentArtifactHashAsync(PortalDbContext db, ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Format == ModelFormat.MlflowModel)
        {
            var files = await MlflowFolders.FilesAsync(db, version.SourceRunId, version.ArtifactPath, cancellationToken);
            return files.Count == 0 ? null : MlflowFolders.Digest(MlflowFolders.Manifest(files, version.ArtifactPath));
        }

        return await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == version.SourceRunId && a.Path == version.ArtifactPath).Select(a => a.Hash).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>The files of a version as bound at registration: one for a model file, the manifest's for an MLflow folder.</summary>
    public async Task<IReadOnlyList<(string Path, string Hash, long Size)>> BoundFilesAsync(ModelVersion version, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (version.Format != ModelFormat.MlflowModel)
        {
            await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
            var size = await db.RunArtifacts.AsNoTracking().Where(a => a.RunId == version.SourceRunId && a.Path == version.ArtifactPath).Select(a => (long?)a.Size).FirstOrDefaultAsync(cancellationToken);
            return [(System.IO.Path.GetFileName(version.ArtifactPath), version.ArtifactHash, size ?? 0)];
        }

        return MlflowFolders.Read(await MlflowFolders.ReadManifestAsync(store, version.ArtifactHash, cancellationToken));
    }

    /// <summary>One bound file of a version by its path inside the version (an MLflow folder's <c>MLmodel</c>, <c>model.pkl</c>…).</summary>
    public async Task<Stream?> OpenBoundFileAsync(ModelVersion version, string path, CancellationToken cancellationToken)
    {
        var file = (await BoundFilesAsync(version, cancellationToken)).FirstOrDefault(f => f.Path == path);
        return file.Hash is null ? null : await store.OpenReadAsync(file.Hash, cancellationToken);
    }

    private async Task<ModelVersionFacts> FactsAsync(PortalDbContext db, Run run, string name, string? description, IReadOnlyList<string>? tags, CancellationToken cancellationToken)
    {
        if ((description ?? "").Length > 4000)
        {
            throw new InvalidInputException("description", "description: at most 4,000 characters.");
        }

        if (tags is { } given && (given.Count > 50 || given.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 100)))
        {
            throw new InvalidInputException("tags", "tags: at most 50, each 1–100 characters.");
        }

        if (tags?.Select(t => Names.FreeTextProblem(t.Trim(' '), "tags", 100)).FirstOrDefault(p => p is not null) is { } tagProblem)
        {
            throw new InvalidInputException("tags", tagProblem);
        }

        var training = run.Inputs.Where(i => i.StartsWith("dataset:", StringComparison.Ordinal)).Distinct(StringComparer.Ordinal).ToList();
        var signature = new List<ColumnSchema>();
        if (training.Count > 0)
        {
            var dataset = await Datasets.DatasetCatalog.VersionByRefAsync(db, training[0], cancellationToken);
            var (_, settings) = await policies.EffectiveAsync(db, name, cancellationToken);
            // The label is what the model predicts, and personal data (e-mails, phone numbers) is never a feature.
            var excluded = (dataset?.Pii ?? []).Select(p => p.Column).Append(settings.Target).ToHashSet(StringComparer.Ordinal);
            signature.AddRange((dataset?.Schema ?? []).Where(c => !excluded.Contains(c.Name)));
        }

        var metrics = run.Metrics.Where(m => double.IsFinite(m.Value.Value)).ToDictionary(m => m.Key, m => m.Value.Value, StringComparer.Ordinal);
        return new ModelVersionFacts(metrics, signature, training, description, tags?.Select(t => t.Trim()).Distinct(StringComparer.Ordinal).ToList());
    }

    public async Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken cancellationToken) =>
        (await SearchAsync(new ModelQuery(Take: int.MaxValue), cancellationToken)).Models;

    /// <summary>Every model's name, for pickers.</summary>
    public async Task<IReadOnlyList<string>> NamesAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.RegisteredModels.AsNoTracking().OrderBy(m => m.Name).Select(m => m.Name).ToListAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<ModelSummary> Models, int Total)> SearchAsync(ModelQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = db.RegisteredModels.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(query.NameContains))
        {
            var pattern = $"%{query.NameContains.Trim().Replace("\\", "\\\\", StringComparison.Ordinal).Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal)}%";
            models = models.Where(m => EF.Functions.Like(m.Name, pattern, "\\"));
        }

        var total = await models.CountAsync(cancellationToken);
        models = (query.OrderBy, query.Descending) switch
        {
            ("Versions", false) => models.OrderBy(m => db.ModelVersions.Count(v => v.ModelName == m.Name)).ThenBy(m => m.Name),
            ("Versions", true) => models.OrderByDescending(m => db.ModelVersions.Count(v => v.ModelName == m.Name)).ThenBy(m => m.Name),
            ("LastChange", false) => models.OrderBy(m => db.ModelVersions.Where(v => v.ModelName == m.Name).Max(v => (DateTime?)v.StateChangedAt)),
            ("LastChange", true) => models.OrderByDescending(m => db.ModelVersions.Where(v => v.ModelName == m.Name).Max(v => (DateTime?)v.StateChangedAt)),
            (_, true) => models.OrderByDescending(m => m.Name),
            _ => models.OrderBy(m => m.Name),
        };
        var page = await models.Skip(Math.Max(0, query.Skip)).Take(Math.Clamp(query.Take, 1, 10_000)).ToListAsync(cancellationToken);
        var names = page.Select(m => m.Name).ToList();
        var versions = await db.ModelVersions.AsNoTracking().Where(v => names.Contains(v.ModelName))
            .Select(v => new { v.ModelName, v.Version, v.State, v.StateChangedAt }).ToListAsync(cancellationToken);
        return ([.. page.Select(m =>
        {
            var mine = versions.Where(v => v.ModelName == m.Name).ToList();
            return new ModelSummary(m, mine.Count, mine.Max(v => (int?)v.Version),
                mine.Where(v => v.State == ModelState.Deployed).Max(v => (int?)v.Version),
                mine.Where(v => v.State == ModelState.Approved).Max(v => (int?)v.Version),
                mine.Count(v => v.State == ModelState.PendingApproval),
                mine.Max(v => (DateTime?)v.StateChangedAt));
        })], total);
    }

    public async Task<ModelVersion?> FindVersionAsync(string name, int version, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelVersions.AsNoTracking().FirstOrDefaultAsync(v => v.ModelName == name && v.Version == version, cancellationToken);
    }

    public async Task<IReadOnlyList<ModelVersion>> VersionsAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.ModelVersions.AsNoTracking().Where(v => v.ModelName == name).OrderByDescending(v => v.Version).ToListAsync(cancellationToken);
    }
}
