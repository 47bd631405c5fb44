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

    public static bool CanRegister(Actor actor) => actor?.BuildsModels == true;

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
