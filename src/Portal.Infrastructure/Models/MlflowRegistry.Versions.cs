using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Models;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>MLflow's model-version operations: create from a run's logged model, read, annotate, delete, search, stages.</summary>
public sealed partial class MlflowRegistry
{
    /// <summary>
    /// MLflow's create-model-version: the source must be a run's logged model (<c>runs:/id/model</c> or the
    /// run's <c>mlflow-artifacts:/</c> URI); the portal registers it and starts its checks as usual.
    /// </summary>
    public async Task<MlflowVersionView> CreateVersionAsync(string? name, string? source, string? runId, IReadOnlyDictionary<string, string> tags, string? description,
        Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var (sourceRun, path) = ParseSource(source, runId);
        var version = await registry.RegisterVersionAsync(name ?? "", sourceRun, path, actor, cancellationToken, description,
            tags.Count == 0 ? null : [.. tags.Select(t => TagText(t.Key, t.Value))]);
        return await GetVersionAsync(version.ModelName, version.Version.ToString(CultureInfo.InvariantCulture), cancellationToken);
    }

    public async Task<MlflowVersionView> GetVersionAsync(string? name, string? version, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await VersionAsync(db, name, version, cancellationToken);
        return (await VersionViewsAsync(db, [found], cancellationToken))[0];
    }

    public async Task<MlflowVersionView> VersionByAliasAsync(string? name, string? alias, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await ModelAsync(db, name, cancellationToken);
        if (alias is null || !model.Aliases.TryGetValue(alias, out var number))
        {
            throw new TrackingException(TrackingError.InvalidParameterValue, $"Registered model alias {alias} not found.");
        }

        var found = await VersionAsync(db, model.Name, number.ToString(CultureInfo.InvariantCulture), cancellationToken);
        return (await VersionViewsAsync(db, [found], cancellationToken))[0];
    }

    public Task<MlflowVersionView> UpdateVersionAsync(string? name, string? version, string? description, Actor actor, CancellationToken cancellationToken) =>
        ChangeVersionAsync(name, version, actor, v => v.Annotate(description, v.Tags), "description changed", cancellationToken);

    public Task<MlflowVersionView> SetVersionTagAsync(string? name, string? version, string? key, string? value, Actor actor, CancellationToken cancellationToken) =>
        ChangeVersionAsync(name, version, actor, v =>
        {
            ModelTags.Check(key, value);
            var text = TagText(key!, value ?? "");
            v.Annotate(v.Description, [.. v.Tags.Where(t => TagKey(t) != key), text]);
        }, $"tag {key} set", cancellationToken);

    public Task<MlflowVersionView> DeleteVersionTagAsync(string? name, string? version, string? key, Actor actor, CancellationToken cancellationToken) =>
        ChangeVersionAsync(name, version, actor, v =>
        {
            if (!v.Tags.Any(t => TagKey(t) == key))
            {
                throw new NotFoundException($"{v.Label} has no tag '{key}'.");
            }

            v.Annotate(v.Description, [.. v.Tags.Where(t => TagKey(t) != key)]);
        }, $"tag {key} deleted", cancellationToken);

    public async Task DeleteVersionAsync(string? name, string? version, Actor actor, CancellationToken cancellationToken)
    {
        EnsureBuilder(actor, "delete model versions");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await VersionAsync(db, name, version, cancellationToken, tracking: true);
        var model = await ModelAsync(db, found.ModelName, cancellationToken, tracking: true);
        EnsureDeletable(found);
        model.ReleaseAliases(found.Version, Protected);
        db.ModelVersions.Remove(found);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelVersionDeleted, $"model:{found.ModelName}:{found.Version}", time, before: $"state={found.State}; sha256={found.ArtifactHash}"));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<MlflowVersionView> Versions, string? NextPageToken)> SearchVersionsAsync(string? filter, int maxResults, string? orderBy, string? pageToken, CancellationToken cancellationToken)
    {
        var parsed = RegistryFilter.Parse(filter, VersionKeys);
        var skip = PageToken.Decode(pageToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var query = db.ModelVersions.AsNoTracking();
        // The common case (one model, or one run) narrows in the database; the rest is read in memory.
        if (parsed.Clauses.FirstOrDefault(c => c.Key == "name" && c.Op == "=") is { Values: [var only] })
        {
            query = query.Where(v => v.ModelName == only);
        }

        if (parsed.Clauses.Where(c => c.Key == "run_id" && c.Op is "=" or "IN").Select(c => c.Values).FirstOrDefault() is { Count: > 0 } runs)
        {
            query = query.Where(v => runs.Contains(v.SourceRunId));
        }

        var views = (await VersionViewsAsync(db, await query.ToListAsync(cancellationToken), cancellationToken))
            .Where(v => parsed.Matches(key => key switch
            {
                "name" => v.Version.ModelName,
                "run_id" => v.Version.SourceRunId,
                "source_path" => v.Source,
                "version_number" => v.Version.Version.ToString(CultureInfo.InvariantCulture),
                _ => v.Version.Tags.Where(t => TagKey(t) == key[5..]).Select(TagValue).FirstOrDefault(),
            }))
            .ToList();
        var (field, descending) = Order(orderBy, ["name", "version_number", "creation_timestamp", "last_updated_timestamp", "timestamp"], "last_updated_timestamp", defaultDescending: true);
        Func<MlflowVersionView, IComparable> by = field switch
        {
            "name" => v => v.Version.ModelName,
            "version_number" => v => v.Version.Version,
            "creation_timestamp" => v => v.Version.CreatedAt,
            _ => v => v.Version.StateChangedAt,
        };
        var sorted = (descending ? views.OrderByDescending(by) : views.OrderBy(by))
            .ThenBy(v => v.Version.ModelName, StringComparer.Ordinal).ThenByDescending(v => v.Version.Version);
        var page = sorted.Skip(skip).Take(maxResults).ToList();
        return (page, skip + maxResults < views.Count ? PageToken.Encode(skip + maxResults) : null);
    }

    /// <summary>MLflow's transition-stage, guarded like protected aliases: Staging and Production need approval.</summary>
    public async Task<MlflowVersionView> TransitionStageAsync(string? name, string? version, string? stage, bool archiveExisting, Actor actor, CancellationToken cancellationToken)
    {
        EnsurePointer(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await VersionAsync(db, name, version, cancellationToken, tracking: true);
        var before = found.Stage;
        try
        {
            found.SetStage(stage);
        }
        catch (DomainException e) when (e is not InvalidInputException)
        {
            await RefuseAsync(actor, $"model:{found.ModelName}:{found.Version}", $"stage {stage}", e.Message, cancellationToken);
            throw;
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelStageChanged, $"model:{found.ModelName}:{found.Version}", time, before: before, after: found.Stage));
        if (archiveExisting && found.Stage is ModelStages.Staging or ModelStages.Production)
        {
            foreach (var other in await db.ModelVersions.Where(v => v.ModelName == found.ModelName && v.Version != found.Version && v.Stage == found.Stage).ToListAsync(cancellationToken))
            {
                db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelStageChanged, $"model:{other.ModelName}:{other.Version}", time, before: other.Stage, after: ModelStages.Archived));
                other.SetStage(ModelStages.Archived);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        return await GetVersionAsync(found.ModelName, found.Version.ToString(CultureInfo.InvariantCulture), cancellationToken);
    }

    /// <summary>Where MLflow clients read a version's files: the bound copy, not the run's current files.</summary>
    public static string DownloadUri(ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(version);
        return $"mlflow-artifacts:/registry/{version.ModelName}/{version.Version.ToString(CultureInfo.InvariantCulture)}";
    }

    /// <summary>MLflow tags become portal tags <c>key=value</c> (just <c>key</c> when the value is empty).</summary>
    public static string TagText(string key, string value) => value.Length == 0 ? key : $"{key}={value}";

    public static string TagKey(string tag) => tag.Split('=', 2)[0];

    public static string TagValue(string tag) => tag.Split('=', 2) is [_, var value] ? value : "";

    private static (string RunId, string Path) ParseSource(string? source, string? runId)
    {
        const string hint = "use the run's logged model: runs:/<run_id>/<path> or its mlflow-artifacts:/<experiment>/<run_id>/artifacts/<path> URI";
        if (string.IsNullOrWhiteSpace(source))
        {
            throw new InvalidInputException("source", $"source: missing; {hint}.");
        }

        if (source.StartsWith("runs:/", StringComparison.Ordinal) && source[6..].Split('/', 2) is [var run, var path] && run.Length > 0)
        {
            return (run, path.Trim('/'));
        }

        if (source.StartsWith("mlflow-artifacts:/", StringComparison.Ordinal)
            && source["mlflow-artifacts:/".Length..].Trim('/').Split('/', 4) is [_, var fromUri, "artifacts", var artifactPath])
        {
            if (runId is not null && runId != fromUri)
            {
                throw new InvalidInputException("run_id", $"run_id: {runId} is not the run of source {source}.");
            }

            return (fromUri, artifactPath.Trim('/'));
        }

        throw new InvalidInputException("source", $"source: '{source}' is not a run's artifact the portal stores; {hint}.");
    }

    private async Task<MlflowVersionView> ChangeVersionAsync(string? name, string? version, Actor actor, Action<ModelVersion> change, string what, CancellationToken cancellationToken)
    {
        EnsureBuilder(actor, "change model versions");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var found = await VersionAsync(db, name, version, cancellationToken, tracking: true);
        try
        {
            change(found);
        }
        catch (DomainException e) when (e is not InvalidInputException and not NotFoundException)
        {
            throw InvalidInputException.FromMessage(e.Message);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelAnnotated, $"model:{found.ModelName}:{found.Version}", time, after: what));
        await db.SaveChangesAsync(cancellationToken);
        return (await VersionViewsAsync(db, [found], cancellationToken))[0];
    }

    private static async Task<ModelVersion> VersionAsync(PortalDbContext db, string? name, string? version, CancellationToken cancellationToken, bool tracking = false)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'name'.");
        }

        if (!int.TryParse(version, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number < 1)
        {
            throw TrackingException.Invalid($"Parameter 'version' must be an integer, got '{version}'.");
        }

        var versions = tracking ? db.ModelVersions : db.ModelVersions.AsNoTracking();
        return await versions.FirstOrDefaultAsync(v => v.ModelName == name && v.Version == number, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Model Version (name={name}, version={version}) not found");
    }

    private static async Task<IReadOnlyList<MlflowVersionView>> VersionViewsAsync(PortalDbContext db, IReadOnlyList<ModelVersion> versions, CancellationToken cancellationToken,
        IReadOnlyList<RegisteredModel>? models = null)
    {
        var runIds = versions.Select(v => v.SourceRunId).Distinct().ToList();
        var experiments = await db.Runs.AsNoTracking().Where(r => runIds.Contains(r.Id)).Select(r => new { r.Id, r.ExperimentId }).ToDictionaryAsync(r => r.Id, r => r.ExperimentId, cancellationToken);
        var names = versions.Select(v => v.ModelName).Distinct().ToList();
        var aliases = models?.ToDictionary(m => m.Name, m => m.Aliases)
            ?? await db.RegisteredModels.AsNoTracking().Where(m => names.Contains(m.Name)).ToDictionaryAsync(m => m.Name, m => m.Aliases, cancellationToken);
        return [.. versions.Select(v => new MlflowVersionView(v,
            experiments.TryGetValue(v.SourceRunId, out var experiment) ? $"mlflow-artifacts:/{experiment.ToString(CultureInfo.InvariantCulture)}/{v.SourceRunId}/artifacts/{v.ArtifactPath}" : $"runs:/{v.SourceRunId}/{v.ArtifactPath}",
            [.. (aliases.GetValueOrDefault(v.ModelName) ?? new Dictionary<string, int>()).Where(a => a.Value == v.Version).Select(a => a.Key).Order(StringComparer.Ordinal)]))];
    }
}
