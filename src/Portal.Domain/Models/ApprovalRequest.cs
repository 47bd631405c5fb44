using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.Domain.Models;

/// <summary>
/// Who must approve a model version before it may be deployed (global default, or per registered model).
/// </summary>
/// <param name="ApprovalsRequired">Distinct reviewers who must approve.</param>
/// <param name="ReviewerRole">Role a reviewer must hold.</param>
/// <param name="AuthorMayApprove">False by default: nobody approves their own model.</param>
/// <param name="RequiredChecks">Check names that must have passed before approval can be requested.</param>
/// <param name="ExpiresAfter">A request nobody completed in this time expires.</param>
public sealed record ApprovalPolicy(int ApprovalsRequired, string ReviewerRole, bool AuthorMayApprove, IReadOnlyList<string> RequiredChecks, TimeSpan ExpiresAfter)
{
    public static ApprovalPolicy Default { get; } = new(2, Roles.RiskReviewer, false, ModelChecks.All, TimeSpan.FromDays(14));

    /// <summary>Null when the policy can work; otherwise what is wrong, naming the field.</summary>
    public string? Problem() =>
        ApprovalsRequired is < 1 or > 10 ? "approvalsRequired: between 1 and 10."
        : !Roles.IsKnown(ReviewerRole) ? $"reviewerRole: '{ReviewerRole}' is not a role; use one of {string.Join(", ", Roles.All)}."
        : RequiredChecks.FirstOrDefault(c => !ModelChecks.All.Contains(c)) is { } unknown ? $"requiredChecks: '{unknown}' is not a check; use {string.Join(", ", ModelChecks.All)}."
        : ExpiresAfter <= TimeSpan.Zero || ExpiresAfter > TimeSpan.FromDays(365) ? "expiresAfterDays: more than zero and at most 365 days."
        : null;
}

public enum ApprovalState
{
    Open,
    Approved,
    Rejected,
    Expired,

    /// <summary>The artifact changed after the request was made; its decisions no longer apply.</summary>
    Void,
}

public enum Verdict
{
    Approve,
    Reject,
}

public sealed record ApprovalDecision(string Reviewer, Verdict Verdict, string Reason, DateTime At);


/// <summary>
/// A request to approve one model version, under a snapshot of the policy at request time. Reviewers decide
/// once each; any rejection ends it; enough approvals approve the version. It binds to the artifact digest:
/// if the artifact changed, the request is void.
/// </summary>
public sealed class ApprovalRequest : Entity
{
    private ApprovalRequest()
    {
    }

    public Guid Id { get; private set; }

    public string ModelName { get; private set; } = "";

    public int Version { get; private set; }

    public string ArtifactHash { get; private set; } = "";

    public string RequestedBy { get; private set; } = "";

    public string? Comment { get; private set; }

    public DateTime RequestedAt { get; private set; }

    public DateTime ExpiresAt { get; private set; }

    public ApprovalPolicy Policy { get; private set; } = ApprovalPolicy.Default;

    public ApprovalState State { get; private set; }

    public IReadOnlyList<ApprovalDecision> Decisions { get; private set; } = [];

    /// <summary>Changes with every decision, so two reviewers deciding at once cannot both win.</summary>
    public Guid ConcurrencyStamp { get; private set; }

    public int ApprovalsGiven => Decisions.Count(d => d.Verdict == Verdict.Approve);

    public static ApprovalRequest Open(ModelVersion version, ApprovalPolicy policy, IReadOnlySet<string> passedChecks, Actor requester, string? comment, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(passedChecks);
        ArgumentNullException.ThrowIfNull(requester);
        var missing = policy.RequiredChecks.Where(c => !passedChecks.Contains(c)).ToList();
        if (missing.Count > 0)
        {
            throw new DomainException($"{version.Label} cannot be sent for approval: the policy requires {string.Join(", ", missing)} to pass first.");
        }

        version.RequestApproval(time);
        var now = time.UtcNow();
        var request = new ApprovalRequest
        {
            Id = Guid.NewGuid(),
            ModelName = version.ModelName,
            Version = version.Version,
            ArtifactHash = version.ArtifactHash,
            RequestedBy = requester.Name,
            Comment = string.IsNullOrWhiteSpace(comment) ? null : comment.Trim(),
            RequestedAt = now,
            ExpiresAt = now + policy.ExpiresAfter,
            Policy = policy,
            State = ApprovalState.Open,
            ConcurrencyStamp = Guid.NewGuid(),
        };
        request.Raise(new ApprovalRequested(request.Id, version.ModelName, version.Version, requester.Name, policy.ReviewerRole, now));
        return request;
    }

    /// <summary>Why <paramref name="reviewer"/> may not decide, or null when they may (for pages to show or hide the buttons).</summary>
    public string? WhyNot(Actor reviewer, ModelVersion version)
    {
        ArgumentNullException.ThrowIfNull(reviewer);
        ArgumentNullException.ThrowIfNull(version);
        if (!reviewer.IsIn(Policy.ReviewerRole))
        {
            return $"Only people with the {Policy.ReviewerRole} role can decide on model versions.";
        }

        if (!Policy.AuthorMayApprove && (reviewer.Name == version.Author || reviewer.Name == RequestedBy))
        {
            return $"You are the author of {version.Label}; someone else must review it.";
        }

        return Decisions.Any(d => d.Reviewer == reviewer.Name) ? "You have already decided on this request." : null;
    }

    /// <summary>
    /// Records a decision. <paramref name="currentArtifactHash"/> is the digest of the artifact as stored
    /// now; if it differs from the one requested, the request becomes void and nothing is decided.
    /// </summary>
    /// <exception cref="NotPermittedException">Wrong role, or the reviewer is the author.</exception>
    /// <exception cref="InvalidInputException">No reason given.</exception>
    /// <exception cref="DomainException">The request is not open (decided, expired, void) or the reviewer decided already.</exception>
    public void Decide(Actor reviewer, Verdict verdict, string? reason, ModelVersion version, string currentArtifactHash, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(reviewer);
        ArgumentNullException.ThrowIfNull(version);
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new InvalidInputException("reason", "reason: say why you approve or reject; it is kept in the audit trail and shown to the author.");
        }

        if (!reviewer.IsIn(Policy.ReviewerRole) || (!Policy.AuthorMayApprove && (reviewer.Name == version.Author || reviewer.Name == RequestedBy)))
        {
            throw new NotPermittedException(WhyNot(reviewer, version)!);
        }

        var now = time.UtcNow();
        if (State == ApprovalState.Open && now > ExpiresAt)
        {
            Close(ApprovalState.Expired, version, "the approval request expired", time);
        }

        if (State == ApprovalState.Open && !string.Equals(currentArtifactHash, ArtifactHash, StringComparison.OrdinalIgnoreCase))
        {
            Close(ApprovalState.Void, version, "the model artifact changed after approval was requested", time);
        }

        if (State != ApprovalState.Open)
        {
            throw new DomainException($"This request is {State.ToString().ToLowerInvariant()}; it no longer takes decisions.");
        }

        if (Decisions.Any(d => d.Reviewer == reviewer.Name))
        {
            throw new DomainException("You have already decided on this request; each reviewer decides once.");
        }

        Decisions = [.. Decisions, new ApprovalDecision(reviewer.Name, verdict, reason.Trim(), now)];
        ConcurrencyStamp = Guid.NewGuid();
        if (verdict == Verdict.Reject)
        {
            State = ApprovalState.Rejected;
            version.Reject(reason.Trim(), time);
        }
        else if (ApprovalsGiven >= Policy.ApprovalsRequired)
        {
            State = ApprovalState.Approved;
            version.Approve(time);
        }

        Raise(new ApprovalDecided(Id, ModelName, Version, reviewer.Name, verdict, reason.Trim(), State, ApprovalsGiven, Policy.ApprovalsRequired, RequestedBy, version.Author, now));
    }

    /// <summary>Expires an open request past its time (a background sweep calls this).</summary>
    public bool ExpireIfDue(ModelVersion version, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(version);
        if (State != ApprovalState.Open || time.UtcNow() <= ExpiresAt)
        {
            return false;
        }

        Close(ApprovalState.Expired, version, "the approval request expired", time);
        return true;
    }

    private void Close(ApprovalState state, ModelVersion version, string reason, TimeProvider time)
    {
        State = state;
        ConcurrencyStamp = Guid.NewGuid();
        if (version.State == ModelState.PendingApproval)
        {
            version.WithdrawRequest(reason, time);
        }
    }
}

/// <summary>A reviewer decided; <paramref name="Outcome"/> is the request's state after it.</summary>
public sealed record ApprovalDecided(
    Guid RequestId, string Model, int Version, string Reviewer, Verdict Verdict, string Reason, ApprovalState Outcome,
    int ApprovalsGiven, int ApprovalsRequired, string RequestedBy, string Author, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"model:{Model}:{Version}";
}

public sealed record ApprovalRequested(Guid RequestId, string Model, int Version, string RequestedBy, string ReviewerRole, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"model:{Model}:{Version}";
}
