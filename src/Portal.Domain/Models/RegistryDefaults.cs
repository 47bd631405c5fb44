using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.Domain.Models;

/// <summary>
/// The global approval policy and checks, as an Admin last set them (one row). Models without their own
/// take these; before an Admin saves any, the built-in policy and the configured checks apply.
/// </summary>
public sealed class RegistryDefaults : Entity
{
    public const int SingletonId = 1;

    private RegistryDefaults()
    {
    }

    public int Id { get; private set; }

    public ApprovalPolicy Policy { get; private set; } = ApprovalPolicy.Default;

    public ValidationSettings Validation { get; private set; } = null!;

    public string UpdatedBy { get; private set; } = "";

    public DateTime UpdatedAt { get; private set; }

    public static RegistryDefaults Create(ApprovalPolicy policy, ValidationSettings validation, Actor actor, TimeProvider time)
    {
        var defaults = new RegistryDefaults { Id = SingletonId };
        defaults.Update(policy, validation, actor, time);
        return defaults;
    }

    public void Update(ApprovalPolicy policy, ValidationSettings validation, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(actor);
        EnsureAdmin(actor);
        EnsureWorkable(policy, validation);
        Policy = policy;
        Validation = validation;
        UpdatedBy = actor.Name;
        UpdatedAt = time.UtcNow();
    }

    internal static void EnsureAdmin(Actor actor)
    {
        if (!actor.IsIn(Roles.Admin))
        {
            throw new NotPermittedException("Only administrators can change approval policies and model checks.");
        }
    }

    internal static void EnsureWorkable(ApprovalPolicy? policy, ValidationSettings? validation)
    {
        if ((policy?.Problem() ?? validation?.Problem()) is { } problem)
        {
            throw InvalidInputException.FromMessage(problem);
        }
    }
}
