using Portal.Domain.Common;
using Portal.Domain.Datasets;

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

    public string? Description { get; private set; }

    public IReadOnlyList<string> Tags { get; private set; } = [];

    /// <summary>The source run's latest metrics when the version was registered.</summary>
    public IReadOnlyDictionary<string, double> Metrics { get; private set; } = new Dictionary<string, double>();

    /// <summary>Input columns and types, taken from the training dataset's schema (the label column left out).</summary>
    public IReadOnlyList<ColumnSchema> Signature { get; private set; } = [];

    /// <summary>Dataset versions the source run consumed (<c>dataset:name:version</c>).</summary>
    public IReadOnlyList<string> TrainingDatasets { get; private set; } = [];

    public ModelCard Card { get; private set; } = ModelCard.Empty;

    public IReadOnlyList<ModelCheck> Checks { get; private set; } = [];

    public ModelEvaluation? Evaluation { get; private set; }

    /// <summary>The run of the job scoring this version on the holdout dataset, once submitted.</summary>
    public string? EvaluationRunId { get; private set; }

    /// <summary>A single model file, or an MLflow model folder (an <c>MLmodel</c> file and what it names).</summary>
    public ModelFormat Format { get; private set; }

    /// <summary>The MLflow flavours the folder's <c>MLmodel</c> declares (python_function, sklearn), empty for a file.</summary>
    public IReadOnlyList<string> Flavors { get; private set; } = [];

    /// <summary>The MLflow model's saved input example (JSON), which seeds the try-it box of deployments.</summary>
    public string? InputExample { get; private set; }

    /// <summary>MLflow's stage label (None, Staging, Production, Archived); Staging and Production need approval.</summary>
    public string Stage { get; private set; } = ModelStages.None;

    public static ModelVersion Register(string modelName, int version, string sourceRunId, string artifactPath, string artifactHash, Actor author, TimeProvider time,
        ModelVersionFacts? facts = null)
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
            Description = string.IsNullOrWhiteSpace(facts?.Description) ? null : facts.Description.Trim(),
            Tags = facts?.Tags ?? [],
            Metrics = facts?.Metrics ?? new Dictionary<string, double>(),
            Signature = facts?.Signature ?? [],
            TrainingDatasets = facts?.TrainingDatasets ?? [],
            Card = facts?.Card ?? ModelCard.Empty,
            Format = facts?.Mlflow is null ? ModelFormat.File : ModelFormat.MlflowModel,
            Flavors = facts?.Mlflow?.Flavors ?? [],
            InputExample = facts?.Mlflow?.InputExample,
            Checks = [.. ModelChecks.All.Select(c => new ModelCheck(c, CheckStatus.Pending, "Waiting to run.", now))],
        };
    }

    /// <summary>
    /// Records a check's outcome. Once every check has an outcome the version leaves Registered: Failed when a
    /// check in <paramref name="required"/> failed (the others are kept as warnings), Validated otherwise.
    /// </summary>
    public void RecordCheck(ModelCheck check, IReadOnlyCollection<string> required, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(required);
        if (Checks.All(c => c.Name != check.Name))
        {
            throw new DomainException($"{Label} has no check '{check.Name}'.");
        }

        if (State != ModelState.Registered)
        {
            throw new DomainException($"{Label} is {Describe(State)}; its checks are closed.");
        }

        Checks = [.. Checks.Select(c => c.Name == check.Name ? check : c)];
        if (Checks.All(c => c.IsFinal))
        {
            var failed = Checks.Where(c => c.Status == CheckStatus.Failed && required.Contains(c.Name)).ToList();
            if (failed.Count == 0)
            {
                PassValidation(time);
            }
            else
            {
                FailValidation(string.Join(" ", failed.Select(c => $"{ModelChecks.Title(c.Name)}: {c.Detail}")), time);
            }
        }
    }

    public void RecordEvaluation(ModelEvaluation evaluation) => Evaluation = evaluation;

    public void BeginEvaluation(string runId) => EvaluationRunId = runId;

    public void EditCard(ModelCard card)
    {
        ArgumentNullException.ThrowIfNull(card);
        if (!CardIsOpen)
        {
            throw new DomainException($"{Label} is {Describe(State)}; its model card is fixed once review starts.");
        }

        if (card.Problem() is { } problem)
        {
            throw new DomainException(problem);
        }

        Card = card;
    }

    public void Annotate(string? description, IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        if ((description ?? "").Length > 4000)
        {
            throw new DomainException("description: at most 4,000 characters.");
        }

        if (tags.Count > 50 || tags.Any(t => string.IsNullOrWhiteSpace(t) || t.Length > 100))
        {
            throw new DomainException("tags: at most 50, each 1–100 characters.");
        }

        Description = string.IsNullOrWhiteSpace(description) ? null : description.Trim();
        Tags = [.. tags.Select(t => t.Trim()).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// Sets MLflow's stage label. Staging and Production mean "fit to serve", so only an approved or deployed
    /// version gets them; None and Archived take the label away and are always allowed.
    /// </summary>
    public void SetStage(string? stage)
    {
        var canonical = ModelStages.Parse(stage);
        if (canonical is ModelStages.Staging or ModelStages.Production && State is not (ModelState.Approved or ModelState.Deployed))
        {
            throw new DomainException($"{Label} is {Describe(State)}; only an approved or deployed version can move to {canonical}. "
                + (State == ModelState.Validated ? $"Open an approval request for it (POST /api/v1/models/{ModelName}/versions/{Version}/approval-requests) first."
                    : State == ModelState.PendingApproval ? "Its approval request is open; move it once reviewers approve."
                    : "Register a new version and ask for approval of that one."));
        }

        Stage = canonical;
    }

    /// <summary>
    /// Every legal move of the lifecycle (design.md §2). The methods below and <see cref="NextStates"/> both
    /// read this table, so what pages offer is exactly what the version accepts.
    /// </summary>
    public static IReadOnlyList<ModelTransition> Transitions { get; } =
    [
        new(ModelMove.PassValidation, ModelState.Registered, ModelState.Validated, "pass validation"),
        new(ModelMove.FailValidation, ModelState.Registered, ModelState.Failed, "fail validation", NeedsReason: true),
        new(ModelMove.RequestApproval, ModelState.Validated, ModelState.PendingApproval, "request approval for"),
        new(ModelMove.Approve, ModelState.PendingApproval, ModelState.Approved, "approve"),
        new(ModelMove.Reject, ModelState.PendingApproval, ModelState.Rejected, "reject", NeedsReason: true),
        new(ModelMove.WithdrawRequest, ModelState.PendingApproval, ModelState.Validated, "withdraw the approval request of", NeedsReason: true),
        new(ModelMove.Deploy, ModelState.Approved, ModelState.Deployed, "deploy"),
        // A version serving traffic is taken out of service before it can be retired (design.md §2).
        new(ModelMove.Undeploy, ModelState.Deployed, ModelState.Approved, "take out of service"),
        new(ModelMove.Archive, ModelState.Approved, ModelState.Archived, "archive", NeedsReason: true),
    ];

    /// <summary>The legal next states from where the version is, for pages to offer only these.</summary>
    public IReadOnlyList<ModelState> NextStates() => [.. Transitions.Where(t => t.From == State).Select(t => t.To).Distinct()];

    /// <summary>Whether <paramref name="move"/> is legal from the version's state.</summary>
    public bool Allows(ModelMove move) => Transitions.Any(t => t.Move == move && t.From == State);

    /// <summary>The card (intended use, limits, data) may change until the version goes to review.</summary>
    public bool MayEditCard(Actor actor) => RegisteredModel.CanRegister(actor) && CardIsOpen;

    private bool CardIsOpen => State is ModelState.Registered or ModelState.Validated or ModelState.Failed;

    /// <summary>Its author's team asks for review once the checks passed.</summary>
    public bool MayRequestApproval(Actor actor) => RegisteredModel.CanRegister(actor) && Allows(ModelMove.RequestApproval);

    /// <summary>Whether the version may be archived now, by <paramref name="actor"/>.</summary>
    public bool MayArchive(Actor actor) => Allows(ModelMove.Archive) && IsRetiredBy(actor);

    /// <summary>Who may retire a version at all: its author, Ops or an administrator.</summary>
    public bool IsRetiredBy(Actor actor)
    {
        ArgumentNullException.ThrowIfNull(actor);
        return actor.Name == Author || actor.IsIn(Identity.Roles.Ops) || actor.IsIn(Identity.Roles.Admin);
    }

    /// <summary>The automatic checks passed.</summary>
    public void PassValidation(TimeProvider time) => Apply(ModelMove.PassValidation, null, time);

    /// <summary>A check failed; the version cannot go further.</summary>
    public void FailValidation(string reason, TimeProvider time) => Apply(ModelMove.FailValidation, reason, time);

    public void RequestApproval(TimeProvider time) => Apply(ModelMove.RequestApproval, null, time);

    /// <summary>The approval policy is met (the request decides when).</summary>
    public void Approve(TimeProvider time) => Apply(ModelMove.Approve, null, time);

    public void Reject(string reason, TimeProvider time) => Apply(ModelMove.Reject, reason, time);

    /// <summary>A request that expired or lost its digest returns the version to Validated, so it can be asked again.</summary>
    public void WithdrawRequest(string reason, TimeProvider time) => Apply(ModelMove.WithdrawRequest, reason, time);

    public void Deploy(TimeProvider time) => Apply(ModelMove.Deploy, null, time);

    /// <summary>Its last deployment stopped serving it: it is approved again, and may be redeployed or archived.</summary>
    public void Undeploy(TimeProvider time) => Apply(ModelMove.Undeploy, null, time);

    public void Archive(string reason, TimeProvider time)
    {
        if (State == ModelState.Deployed)
        {
            // Archiving what serves production traffic would leave callers on a retired model without a word.
            throw new DomainException($"{Label} is deployed and serves traffic; route its traffic to another version and take it out of service before archiving it.");
        }

        Apply(ModelMove.Archive, reason, time);
    }

    private void Apply(ModelMove move, string? reason, TimeProvider time)
    {
        var rows = Transitions.Where(t => t.Move == move).ToList();
        var row = rows.FirstOrDefault(t => t.From == State)
            ?? throw new DomainException($"Cannot {rows[0].Verb} {Label}: it is {Describe(State)}, and only a version that is {string.Join(" or ", rows.Select(t => Describe(t.From)))} can be.");
        Set(row.To, row.NeedsReason ? Required(reason) : null, time);
    }

    private void Set(ModelState to, string? reason, TimeProvider time)
    {
        var from = State;
        State = to;
        StateReason = reason;
        StateChangedAt = time.UtcNow();
        Raise(new ModelVersionStateChanged(ModelName, Version, from, to, reason, Author, StateChangedAt));
    }

    private static string Required(string? reason) =>
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

/// <summary>The named moves of a model version's lifecycle.</summary>
public enum ModelMove
{
    PassValidation,
    FailValidation,
    RequestApproval,
    Approve,
    Reject,
    WithdrawRequest,
    Deploy,
    Undeploy,
    Archive,
}

/// <summary>One row of the lifecycle table: <paramref name="Move"/> takes a version from one state to another.</summary>
public sealed record ModelTransition(ModelMove Move, ModelState From, ModelState To, string Verb, bool NeedsReason = false);

/// <summary>What a registration knows besides the artifact: run metrics, signature, training data, words.</summary>
public sealed record ModelVersionFacts(
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<ColumnSchema> Signature,
    IReadOnlyList<string> TrainingDatasets,
    string? Description = null,
    IReadOnlyList<string>? Tags = null,
    ModelCard? Card = null,
    MlflowModelFacts? Mlflow = null);

public sealed record ModelVersionStateChanged(string Model, int Version, ModelState From, ModelState To, string? Reason, string Author, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"model:{Model}:{Version}";
}
