using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Identity;

namespace Portal.Domain.Models;

/// <summary>A named model in the registry; its versions are <see cref="ModelVersion"/>s.</summary>
public sealed class RegisteredModel : Entity
{
    private RegisteredModel()
    {
    }

    public Guid Id { get; private set; }

    /// <summary>Same rules as dataset names: part of URLs and lineage references (<c>model:{name}:{version}</c>).</summary>
    public string Name { get; private set; } = "";

    public string? Description { get; private set; }

    public string CreatedBy { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    /// <summary>This model's approval policy, when it differs from the global default.</summary>
    public ApprovalPolicy? Policy { get; private set; }

    /// <summary>How this model's versions are checked, when it differs from the global default.</summary>
    public ValidationSettings? Validation { get; private set; }

    /// <summary>MLflow's registered-model tags (key → value), shared with the MLflow API.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; private set; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Named pointers to versions (MLflow aliases: <c>models:/name@champion</c>). Protected ones move only
    /// onto an approved or deployed version, so no client can route around the approval workflow.
    /// </summary>
    public IReadOnlyDictionary<string, int> Aliases { get; private set; } = new Dictionary<string, int>(StringComparer.Ordinal);

    public static bool CanRegister(Actor actor) => actor?.BuildsModels == true;

    /// <summary>Who may move aliases and stages: those who build models, and Ops who run them.</summary>
    public static bool CanPoint(Actor actor) => actor is not null && (actor.BuildsModels || actor.IsIn(Roles.Ops));

    public void Describe(string? description)
    {
        if ((description ?? "").Length > 4000)
        {
            throw new InvalidInputException("description", "description: at most 4,000 characters.");
        }

        Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
    }

    public void SetTag(string? key, string? value)
    {
        ModelTags.Check(key, value);
        Tags = new Dictionary<string, string>(Tags, StringComparer.Ordinal) { [key!] = value ?? "" };
    }

    public void DeleteTag(string? key)
    {
        if (key is null || !Tags.ContainsKey(key))
        {
            throw new NotFoundException($"Registered model '{Name}' has no tag '{key}'.");
        }

        Tags = Tags.Where(t => t.Key != key).ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal);
    }

    /// <summary>
    /// Points <paramref name="alias"/> at <paramref name="version"/>. A protected alias (design: champion,
    /// production) needs an approved or deployed version; the refusal says which request to open.
    /// </summary>
    public void SetAlias(string? alias, ModelVersion version, IReadOnlyCollection<string> protectedAliases)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(protectedAliases);
        if (ModelAliases.Problem(alias) is { } problem)
        {
            throw new InvalidInputException("alias", problem);
        }

        if (version.ModelName != Name)
        {
            throw new DomainException($"{version.Label} is not a version of '{Name}'.");
        }

        if (ModelAliases.IsProtected(alias!, protectedAliases) && version.State is not (ModelState.Approved or ModelState.Deployed))
        {
            throw new DomainException($"Alias '{alias}' is protected: it can only point at an approved or deployed version, and {version.Label} is {ModelVersion.Describe(version.State)}. "
                + (version.State == ModelState.Validated ? $"Open an approval request for it (POST /api/v1/models/{Name}/versions/{version.Version}/approval-requests, or Request approval on its page) and set the alias once reviewers approve."
                    : version.State == ModelState.PendingApproval ? "Its approval request is open; set the alias once reviewers approve it."
                    : version.State == ModelState.Registered ? "Its checks are still running; once they pass, open an approval request for it."
                    : "It cannot be approved; register a new version and ask for approval of that one."));
        }

        Aliases = new Dictionary<string, int>(Aliases, StringComparer.Ordinal) { [alias!] = version.Version };
    }

    /// <summary>Removes an alias; returns the version it pointed at.</summary>
    public int DeleteAlias(string? alias)
    {
        if (alias is null || !Aliases.TryGetValue(alias, out var version))
        {
            throw new NotFoundException($"Registered model '{Name}' has no alias '{alias}'.");
        }

        Aliases = Aliases.Where(a => a.Key != alias).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
        return version;
    }

    /// <summary>Aliases pointing at <paramref name="version"/>, in name order.</summary>
    public IReadOnlyList<string> AliasesOf(int version) => [.. Aliases.Where(a => a.Value == version).Select(a => a.Key).Order(StringComparer.Ordinal)];

    /// <summary>Forgets the aliases of a version being deleted; refused while it holds a protected one.</summary>
    public void ReleaseAliases(int version, IReadOnlyCollection<string> protectedAliases)
    {
        if (AliasesOf(version).FirstOrDefault(a => ModelAliases.IsProtected(a, protectedAliases)) is { } held)
        {
            throw new DomainException($"Version {version} of '{Name}' holds the protected alias '{held}'; point '{held}' at another approved version first.");
        }

        Aliases = Aliases.Where(a => a.Value != version).ToDictionary(a => a.Key, a => a.Value, StringComparer.Ordinal);
    }

    public static RegisteredModel Create(string name, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        if (DatasetNames.Problem(name) is { } problem)
        {
            throw new DomainException(problem.Replace("dataset", "model", StringComparison.OrdinalIgnoreCase));
        }

        return new RegisteredModel { Id = Guid.NewGuid(), Name = name, CreatedBy = actor.Name, CreatedAt = time.UtcNow() };
    }

    /// <summary>Sets (or, with nulls, clears) this model's own policy and checks. Admins only.</summary>
    public void Govern(ApprovalPolicy? policy, ValidationSettings? validation, Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        RegistryDefaults.EnsureAdmin(actor);
        RegistryDefaults.EnsureWorkable(policy, validation);
        Policy = policy;
        Validation = validation;
    }
}
