using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Experiments;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>A registered model with its versions' numbers and states, for lists.</summary>
public sealed record ModelSummary(RegisteredModel Model, int Versions, int? LatestVersion, int? DeployedVersion, int? ApprovedVersion);

/// <summary>Refused registration input, naming the field.</summary>
public sealed class ModelInputException(string field, string message) : DomainException(message)
{
    public string Field { get; } = field;
}

/// <summary>
/// The model registry: versions registered from a run's artifact (bound to its SHA-256), with lineage
/// run → model and dataset → run → model, and an audit entry for every change.
/// </summary>
public sealed class ModelRegistry(IDbContextFactory<PortalDbContext> dbFactory, TimeProvider time)
{
    // One registration per model at a time, so version numbers are never raced.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, SemaphoreSlim> Gates = new(StringComparer.Ordinal);

    public async Task<ModelVersion> RegisterVersionAsync(string name, string? runId, string? artifactPath, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (!RegisteredModel.CanRegister(actor))
        {
            throw new NotPermittedException("Only data scientists and administrators can register model versions.");
        }

        if (DatasetNames.Problem(name) is { } nameProblem)
        {
            throw new ModelInputException("name", nameProblem.Replace("dataset", "model", StringComparison.OrdinalIgnoreCase));
        }

        if (string.IsNullOrWhiteSpace(runId))
        {
            throw new ModelInputException("runId", "runId: name the run whose artifact becomes the model.");
        }

        // The source must be a file the run stored: a URL, an absolute path or one that climbs out is refused.
        var path = artifactPath ?? "";
        try
        {
            path = RunArtifacts.Decode(path.Trim());
        }
        catch (TrackingException e)
        {
            throw new ModelInputException("artifactPath", $"artifactPath: {e.Message}");
        }

        if (RunArtifacts.PathProblem(path) is { } pathProblem)
        {
            throw new ModelInputException("artifactPath", $"artifactPath: {pathProblem} It names a file of the run, such as outputs/model.pkl.");
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var run = await db.Runs.AsNoTracking().FirstOrDefaultAsync(r => r.Id == runId, cancellationToken)
            ?? throw new ModelInputException("runId", $"runId: there is no run {runId}.");
        var artifact = await db.RunArtifacts.AsNoTracking().FirstOrDefaultAsync(a => a.RunId == runId && a.Path == path, cancellationToken)
            ?? throw new ModelInputException("artifactPath", $"artifactPath: run {runId} has no artifact '{path}'.");

        var gate = Gates.GetOrAdd(name, _ => new SemaphoreSlim(1, 1));
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
            var version = ModelVersion.Register(name, number, run.Id, path, artifact.Hash, actor, time);
            db.ModelVersions.Add(version);
            var modelRef = ArtifactRef.Parse($"model:{name}:{number}");
            db.LineageEdges.Add(LineageEdge.Record(ArtifactRef.Run(run.Id), modelRef, LineageRelation.RegisteredFrom, actor, time));
            db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelVersionRegistered, modelRef.ToString(), time,
                after: $"state={version.State}; run={run.Id}; artifact={path}; sha256={artifact.Hash}"));
            await db.SaveChangesAsync(cancellationToken);
            return version;
        }
        finally
        {
            gate.Release();
        }
    }

    public async Task<IReadOnlyList<ModelSummary>> ListAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = await db.RegisteredModels.AsNoTracking().OrderBy(m => m.Name).ToListAsync(cancellationToken);
        var versions = await db.ModelVersions.AsNoTracking().Select(v => new { v.ModelName, v.Version, v.State }).ToListAsync(cancellationToken);
        return [.. models.Select(m =>
        {
            var mine = versions.Where(v => v.ModelName == m.Name).ToList();
            return new ModelSummary(m, mine.Count, mine.Max(v => (int?)v.Version),
                mine.Where(v => v.State == ModelState.Deployed).Max(v => (int?)v.Version),
                mine.Where(v => v.State == ModelState.Approved).Max(v => (int?)v.Version));
        })];
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
