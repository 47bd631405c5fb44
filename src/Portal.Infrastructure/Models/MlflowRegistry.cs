using System.Globalization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Domain.Models;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>A version as MLflow's registry API shows it: the version, where its files are read, its aliases.</summary>
public sealed record MlflowVersionView(ModelVersion Version, string Source, IReadOnlyList<string> Aliases);

/// <summary>A registered model as MLflow's registry API shows it, with the newest version of each stage.</summary>
public sealed record MlflowModelView(RegisteredModel Model, DateTime LastUpdated, IReadOnlyList<MlflowVersionView> LatestVersions);

/// <summary>
/// MLflow's model-registry operations onto the governed registry: versions are the portal's
/// <see cref="ModelVersion"/>s (registered, checked and approved as any other), aliases and stages are
/// guarded by approval, and every change is audited.
/// </summary>
public sealed partial class MlflowRegistry(IDbContextFactory<PortalDbContext> dbFactory, ModelRegistry registry, IOptions<PortalOptions> options, TimeProvider time)
{
    public static IReadOnlyList<string> ModelKeys { get; } = ["name"];

    public static IReadOnlyList<string> VersionKeys { get; } = ["name", "run_id", "source_path", "version_number"];

    private IReadOnlyCollection<string> Protected => options.Value.Models.ProtectedAliases;

    public bool IsProtected(string alias) => ModelAliases.IsProtected(alias, Protected);

    public async Task<MlflowModelView> CreateModelAsync(string? name, string? description, IReadOnlyDictionary<string, string> tags, Actor actor, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tags);
        EnsureBuilder(actor, "create registered models");
        if (Portal.Domain.Datasets.DatasetNames.Problem(name) is { } problem)
        {
            // Bad input, not a state conflict: MLflow's INVALID_PARAMETER_VALUE, as for a version's name.
            throw new InvalidInputException("name", problem.Replace("dataset", "model", StringComparison.OrdinalIgnoreCase));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        if (await db.RegisteredModels.AnyAsync(m => m.Name == name, cancellationToken))
        {
            throw new TrackingException(TrackingError.ResourceAlreadyExists, $"Registered Model (name={name}) already exists.");
        }

        var model = RegisteredModel.Create(name ?? "", actor, time);
        model.Describe(description);
        foreach (var (key, value) in tags)
        {
            model.SetTag(key, value);
        }

        db.RegisteredModels.Add(model);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelAnnotated, $"model:{model.Name}", time, after: "created through the MLflow API"));
        await db.SaveChangesAsync(cancellationToken);
        return await GetModelAsync(model.Name, cancellationToken);
    }

    public async Task<MlflowModelView> GetModelAsync(string? name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return (await ViewsAsync(db, [await ModelAsync(db, name, cancellationToken)], cancellationToken))[0];
    }

    public async Task<MlflowModelView> UpdateModelAsync(string? name, string? description, Actor actor, CancellationToken cancellationToken) =>
        await ChangeModelAsync(name, actor, m => m.Describe(description), "description changed", cancellationToken);

    public Task<MlflowModelView> SetModelTagAsync(string? name, string? key, string? value, Actor actor, CancellationToken cancellationToken) =>
        ChangeModelAsync(name, actor, m => m.SetTag(key, value), $"tag {key} set", cancellationToken);

    public Task<MlflowModelView> DeleteModelTagAsync(string? name, string? key, Actor actor, CancellationToken cancellationToken) =>
        ChangeModelAsync(name, actor, m => m.DeleteTag(key), $"tag {key} deleted", cancellationToken);

    /// <summary>Names are part of lineage and audit references (<c>model:name:version</c>), so they never change.</summary>
    public static Task RenameModelAsync(string? name, string? newName) =>
        throw new DomainException($"Registered models keep their names: '{name}' is part of its versions' lineage, approvals and audit trail. Register the model under '{newName}' instead.");

    /// <summary>
    /// Deletes a model and its versions. Refused while a version waits for approval, is deployed or holds a
    /// protected alias: those are decisions other people rely on.
    /// </summary>
    public async Task DeleteModelAsync(string? name, Actor actor, CancellationToken cancellationToken)
    {
        EnsureBuilder(actor, "delete registered models");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await ModelAsync(db, name, cancellationToken, tracking: true);
        var versions = await db.ModelVersions.Where(v => v.ModelName == model.Name).ToListAsync(cancellationToken);
        foreach (var version in versions)
        {
            EnsureDeletable(version);
            model.ReleaseAliases(version.Version, Protected);
        }

        db.ModelVersions.RemoveRange(versions);
        db.RegisteredModels.Remove(model);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelDeleted, $"model:{model.Name}", time,
            before: $"{versions.Count} version(s): {string.Join(", ", versions.Select(v => $"{v.Version} {v.State}"))}"));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task<(IReadOnlyList<MlflowModelView> Models, string? NextPageToken)> SearchModelsAsync(string? filter, int maxResults, string? orderBy, string? pageToken, CancellationToken cancellationToken)
    {
        var parsed = RegistryFilter.Parse(filter, ModelKeys);
        var skip = PageToken.Decode(pageToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var models = (await db.RegisteredModels.AsNoTracking().ToListAsync(cancellationToken))
            .Where(m => parsed.Matches(key => key == "name" ? m.Name : m.Tags.GetValueOrDefault(key[5..])))
            .ToList();
        var (field, descending) = Order(orderBy, ["name", "timestamp", "last_updated_timestamp"], "name");
        var next = skip + maxResults < models.Count ? PageToken.Encode(skip + maxResults) : null;
        if (field == "name")
        {
            // Ordered by name, only the page's models need their versions read.
            var byName = descending ? models.OrderByDescending(m => m.Name, StringComparer.Ordinal) : models.OrderBy(m => m.Name, StringComparer.Ordinal);
            return (await ViewsAsync(db, [.. byName.Skip(skip).Take(maxResults)], cancellationToken), next);
        }

        var views = await ViewsAsync(db, models, cancellationToken);
        var sorted = (descending ? views.OrderByDescending(v => v.LastUpdated) : views.OrderBy(v => v.LastUpdated)).ThenBy(v => v.Model.Name, StringComparer.Ordinal);
        return ([.. sorted.Skip(skip).Take(maxResults)], next);
    }

    /// <summary>The newest version in each of <paramref name="stages"/> (every stage when empty).</summary>
    public async Task<IReadOnlyList<MlflowVersionView>> LatestVersionsAsync(string? name, IReadOnlyList<string> stages, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stages);
        var wanted = stages.Select(ModelStages.Parse).ToHashSet(StringComparer.Ordinal);
        var view = await GetModelAsync(name, cancellationToken);
        return [.. view.LatestVersions.Where(v => wanted.Count == 0 || wanted.Contains(v.Version.Stage))];
    }

    /// <summary>
    /// Points an alias at a version. A protected alias needs an approved or deployed version; the refusal is
    /// audited as a security event (someone tried to route around review).
    /// </summary>
    public async Task SetAliasAsync(string? name, string? alias, string? version, Actor actor, CancellationToken cancellationToken)
    {
        EnsurePointer(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await ModelAsync(db, name, cancellationToken, tracking: true);
        var target = await VersionAsync(db, model.Name, version, cancellationToken);
        var before = alias is not null && model.Aliases.TryGetValue(alias, out var was) ? $"version {was}" : "unset";
        try
        {
            model.SetAlias(alias, target, Protected);
        }
        catch (DomainException e) when (e is not InvalidInputException)
        {
            await RefuseAsync(actor, $"model:{model.Name}:{target.Version}", $"alias {alias}", e.Message, cancellationToken);
            throw;
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelAliasChanged, $"model:{model.Name}", time,
            before: $"{alias}: {before}", after: $"{alias}: version {target.Version} ({target.State})"));
        await db.SaveChangesAsync(cancellationToken);
    }

    public async Task DeleteAliasAsync(string? name, string? alias, Actor actor, CancellationToken cancellationToken)
    {
        EnsurePointer(actor);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await ModelAsync(db, name, cancellationToken, tracking: true);
        var was = model.DeleteAlias(alias);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelAliasChanged, $"model:{model.Name}", time, before: $"{alias}: version {was}", after: $"{alias}: unset"));
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task<MlflowModelView> ChangeModelAsync(string? name, Actor actor, Action<RegisteredModel> change, string what, CancellationToken cancellationToken)
    {
        EnsureBuilder(actor, "change registered models");
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await ModelAsync(db, name, cancellationToken, tracking: true);
        change(model);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.ModelAnnotated, $"model:{model.Name}", time, after: what));
        await db.SaveChangesAsync(cancellationToken);
        return (await ViewsAsync(db, [model], cancellationToken))[0];
    }

    private async Task RefuseAsync(Actor actor, string entity, string what, string why, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.AliasRefused, entity, time, after: $"refused {what}", reason: why));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static void EnsureDeletable(ModelVersion version)
    {
        if (version.State is ModelState.PendingApproval or ModelState.Deployed)
        {
            throw new DomainException($"{version.Label} is {ModelVersion.Describe(version.State)}; "
                + (version.State == ModelState.Deployed ? "take it out of service before deleting it." : "its approval request is open; wait for the decision or let it expire before deleting it."));
        }
    }

    private static void EnsureBuilder(Actor actor, string what)
    {
        if (!RegisteredModel.CanRegister(actor))
        {
            throw new NotPermittedException($"Only data scientists and administrators can {what}.");
        }
    }

    private static void EnsurePointer(Actor actor)
    {
        if (!RegisteredModel.CanPoint(actor))
        {
            throw new NotPermittedException("Only data scientists, Ops and administrators can move aliases and stages.");
        }
    }

    private static (string Field, bool Descending) Order(string? orderBy, IReadOnlyList<string> fields, string fallback, bool defaultDescending = false)
    {
        if (string.IsNullOrWhiteSpace(orderBy))
        {
            return (fallback, defaultDescending);
        }

        var parts = orderBy.Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var field = parts[0].ToLowerInvariant();
        if (!fields.Contains(field) || parts.Length > 2 || (parts.Length == 2 && !parts[1].Equals("ASC", StringComparison.OrdinalIgnoreCase) && !parts[1].Equals("DESC", StringComparison.OrdinalIgnoreCase)))
        {
            throw TrackingException.Invalid($"Invalid order_by clause '{orderBy}': use one of {string.Join(", ", fields)}, optionally followed by ASC or DESC.");
        }

        return (field, parts.Length == 2 && parts[1].Equals("DESC", StringComparison.OrdinalIgnoreCase));
    }

    private static async Task<RegisteredModel> ModelAsync(PortalDbContext db, string? name, CancellationToken cancellationToken, bool tracking = false)
    {
        if (string.IsNullOrEmpty(name))
        {
            throw TrackingException.Invalid("Missing value for required parameter 'name'.");
        }

        var models = tracking ? db.RegisteredModels : db.RegisteredModels.AsNoTracking();
        return await models.FirstOrDefaultAsync(m => m.Name == name, cancellationToken)
            ?? throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Registered Model with name={name} not found");
    }

    private static async Task<IReadOnlyList<MlflowModelView>> ViewsAsync(PortalDbContext db, IReadOnlyList<RegisteredModel> models, CancellationToken cancellationToken)
    {
        var names = models.Select(m => m.Name).ToList();
        var versions = await db.ModelVersions.AsNoTracking().Where(v => names.Contains(v.ModelName)).ToListAsync(cancellationToken);
        var views = await VersionViewsAsync(db, versions, cancellationToken, models);
        return [.. models.Select(m =>
        {
            var mine = views.Where(v => v.Version.ModelName == m.Name).ToList();
            var latest = mine.GroupBy(v => v.Version.Stage).Select(g => g.MaxBy(v => v.Version.Version)!).OrderBy(v => v.Version.Version).ToList();
            return new MlflowModelView(m, mine.Select(v => v.Version.StateChangedAt).Append(m.CreatedAt).Max(), latest);
        })];
    }
}
