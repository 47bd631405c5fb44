using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Models;

/// <summary>What applies to a model and where it comes from (its own, the Admin defaults, the settings file).</summary>
public sealed record EffectivePolicy(ApprovalPolicy Policy, ValidationSettings Validation, bool ModelOwnPolicy, bool ModelOwnValidation);

/// <summary>Approval policies and check settings: global defaults and per-model overrides, Admin-only and audited with before/after.</summary>
public sealed class RegistryPolicies(IDbContextFactory<PortalDbContext> dbFactory, IOptions<PortalOptions> options, TimeProvider time)
{
    /// <summary>
    /// The policy and checks that apply to a model: its own, else an Admin's defaults, else the built-in policy
    /// and the settings file. With no model name, the defaults.
    /// </summary>
    internal async Task<(ApprovalPolicy Policy, ValidationSettings Validation)> EffectiveAsync(PortalDbContext db, string? modelName, CancellationToken cancellationToken)
    {
        var model = modelName is null ? null : await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == modelName, cancellationToken);
        var defaults = await db.RegistryDefaults.AsNoTracking().FirstOrDefaultAsync(d => d.Id == RegistryDefaults.SingletonId, cancellationToken);
        return (model?.Policy ?? defaults?.Policy ?? ApprovalPolicy.Default, model?.Validation ?? defaults?.Validation ?? options.Value.Models.ToSettings());
    }

    public async Task<EffectivePolicy> DefaultsAsync(CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var (policy, settings) = await EffectiveAsync(db, null, cancellationToken);
        return new(policy, settings, false, false);
    }

    public async Task<EffectivePolicy> ForModelAsync(string name, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await db.RegisteredModels.AsNoTracking().FirstOrDefaultAsync(m => m.Name == name, cancellationToken)
            ?? throw new NotFoundException($"There is no model '{name}'.");
        var (policy, settings) = await EffectiveAsync(db, name, cancellationToken);
        return new(policy, settings, model.Policy is not null, model.Validation is not null);
    }

    public async Task SaveDefaultsAsync(ApprovalPolicy policy, ValidationSettings settings, Actor actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var defaults = await db.RegistryDefaults.FirstOrDefaultAsync(d => d.Id == RegistryDefaults.SingletonId, cancellationToken);
        var before = defaults is null ? Describe(await DefaultsAsync(cancellationToken)) : Describe(defaults.Policy, defaults.Validation);
        if (defaults is null)
        {
            db.RegistryDefaults.Add(RegistryDefaults.Create(policy, settings, actor, time));
        }
        else
        {
            defaults.Update(policy, settings, actor, time);
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.PolicyChanged, "policy:default", time, before, Describe(policy, settings)));
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Sets a model's own policy and checks; nulls return it to the defaults.</summary>
    public async Task SaveForModelAsync(string name, ApprovalPolicy? policy, ValidationSettings? settings, Actor actor, CancellationToken cancellationToken)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var model = await db.RegisteredModels.FirstOrDefaultAsync(m => m.Name == name, cancellationToken)
            ?? throw new NotFoundException($"There is no model '{name}'.");
        var before = Describe(await ForModelAsync(name, cancellationToken));
        model.Govern(policy, settings, actor);
        var (effectivePolicy, effectiveSettings) = (policy, settings);
        if (policy is null || settings is null)
        {
            var defaults = await DefaultsAsync(cancellationToken);
            effectivePolicy ??= defaults.Policy;
            effectiveSettings ??= defaults.Validation;
        }

        db.AuditEntries.Add(AuditEntry.Record(actor, AuditActions.PolicyChanged, $"model:{name}", time, before,
            Describe(effectivePolicy!, effectiveSettings!) + (policy is null ? " (policy: defaults)" : "") + (settings is null ? " (checks: defaults)" : "")));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Describe(EffectivePolicy effective) => Describe(effective.Policy, effective.Validation);

    private static string Describe(ApprovalPolicy policy, ValidationSettings settings) =>
        JsonSerializer.Serialize(new { policy, checks = settings }, JsonColumn.Options);
}
