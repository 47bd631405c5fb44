using Portal.Domain.Common;

namespace Portal.Domain.Models;

/// <summary>The lifecycle of design.md §2, in api.md's names.</summary>
public enum ModelState
{
    Registered,
    Validated,
    Failed,
    PendingApproval,
    Approved,
    Rejected,
    Deployed,
    Archived,
}

/// <summary>
/// One version of a registered model: made from a run's artifact (bound by its SHA-256), moved through the
/// lifecycle only by the methods below, each of which refuses an illegal move with a sentence a person
/// understands.
/// </summary>
public sealed class ModelVersion : Entity
{
    private ModelVersion()
    {
    }

    public Guid Id { get; private set; }

    public string ModelName { get; private set; } = "";

    public int Version { get; private set; }

    public string SourceRunId { get; private set; } = "";

    public string ArtifactPath { get; private set; } = "";

    /// <summary>SHA-256 of the artifact; approvals bind to it.</summary>
    public string ArtifactHash { get; private set; } = "";

    public string Author { get; private set; } = "";

    public DateTime CreatedAt { get; private set; }

    public ModelState State { get; private set; }

    public DateTime StateChangedAt { get; private set; }

    /// <summary>Why the version is Failed, Rejected or Archived, in words.</summary>
    public string? StateReason { get; private set; }

    public string Label => $"{ModelName} version {Version}";

    public static ModelVersion Register(string modelName, int version, string sourceRunId, string artifactPath, string artifactHash, Actor author, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(author);
        if (version < 1)
        {
            throw new DomainException("A model version number starts at 1.");
        }

        if (artifactHash.Length != 64 || !artifactHash.All(Uri.IsHexDigit))
        {
            throw new DomainException("A model version needs the SHA-256 of its artifact (64 hex digits).");
        }

        var now = time.UtcNow();
        return new ModelVersion
        {
            Id = Guid.NewGuid(),
            ModelName = modelName,
            Version = version,
            SourceRunId = sourceRunId,
            ArtifactPath = artifactPath,
            ArtifactHash = artifactHash.ToLowerInvariant(),
            Author = author.Name,
            CreatedAt = now,
            State = ModelState.Registered,
            StateChangedAt = now,
        };
    }

    /// <summary>The legal next states from where the version is, for pages to offer only these.</summary>
    public IReadOnlyList<ModelState> NextStates() => State switch
    {
        ModelState.Registered => [ModelState.Validated, ModelState.Failed],
        ModelState.Validated => [ModelState.PendingApproval],
        ModelState.PendingApproval => [ModelState.Approved, ModelState.Rejected],
        ModelState.Approved => [ModelState.Deployed, ModelState.Archived],
        ModelState.Deployed => [ModelState.Archived],
        _ => [],
    };

    /// <summary>The automatic checks passed.</summary>
    public void PassValidation(TimeProvider time) => Move(ModelState.Registered, ModelState.Validated, null, time, "pass validation");

    /// <summary>A check failed; the version cannot go further.</summary>
    public void FailValidation(string reason, TimeProvider time) => Move(ModelState.Registered, ModelState.Failed, Required(reason), time, "fail validation");

    public void RequestApproval(TimeProvider time) => Move(ModelState.Validated, ModelState.PendingApproval, null, time, "request approval for");

    /// <summary>The approval policy is met (the request decides when).</summary>
    public void Approve(TimeProvider time) => Move(ModelState.PendingApproval, ModelState.Approved, null, time, "approve");

    public void Reject(string reason, TimeProvider time) => Move(ModelState.PendingApproval, ModelState.Rejected, Required(reason), time, "reject");

    /// <summary>A request that expired or lost its digest returns the version to Validated, so it can be asked again.</summary>
    public void WithdrawRequest(string reason, TimeProvider time) => Move(ModelState.PendingApproval, ModelState.Validated, Required(reason), time, "withdraw the approval request of");

    public void Deploy(TimeProvider time) => Move(ModelState.Approved, ModelState.Deployed, null, time, "deploy");

    public void Archive(string reason, TimeProvider time)
    {
        if (State is not (ModelState.Approved or ModelState.Deployed))
        {
            throw new DomainException($"{Label} is {Describe(State)}; only an approved or deployed version can be archived.");
        }

        Set(ModelState.Archived, Required(reason), time);
    }

    private void Move(ModelState from, ModelState to, string? reason, TimeProvider time, string verb)
    {
        if (State != from)
        {
            throw new DomainException($"Cannot {verb} {Label}: it is {Describe(State)}, and only a version that is {Describe(from)} can be.");
        }

        Set(to, reason, time);
    }

    private void Set(ModelState to, string? reason, TimeProvider time)
    {
        var from = State;
        State = to;
        StateReason = reason;
        StateChangedAt = time.UtcNow();
        Raise(new ModelVersionStateChanged(ModelName, Version, from, to, reason, StateChangedAt));
    }

    private static string Required(string reason) =>
        string.IsNullOrWhiteSpace(reason) ? throw new DomainException("Give a reason; it is kept with the version and shown to its author.") : reason.Trim();

    public static string Describe(ModelState state) => state switch
    {
        ModelState.Registered => "registered (checks not run yet)",
        ModelState.Validated => "validated",
        ModelState.Failed => "failed its checks",
        ModelState.PendingApproval => "waiting for approval",
        ModelState.Approved => "approved",
        ModelState.Rejected => "rejected",
        ModelState.Deployed => "deployed",
        _ => "archived",
    };
}

public sealed record ModelVersionStateChanged(string Model, int Version, ModelState From, ModelState To, string? Reason, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"model:{Model}:{Version}";
}
