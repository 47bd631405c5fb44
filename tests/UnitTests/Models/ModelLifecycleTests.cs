using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Models;

/// <summary>Every legal and illegal move of design.md §2's lifecycle, and the approval rules.</summary>
public class ModelLifecycleTests
{
    private static readonly string Hash = new('a', 64);
    private static readonly Actor Author = new("sam@x", [Roles.DataScientist]);
    private static readonly Actor Rita = new("rita@x", [Roles.RiskReviewer]);
    private static readonly Actor Rob = new("rob@x", [Roles.RiskReviewer]);
    private static readonly IReadOnlySet<string> AllChecks = ApprovalPolicy.Default.RequiredChecks.ToHashSet();
    private readonly FixedTime _time = new();

    public static TheoryData<ModelState, string> Moves => new()
    {
        { ModelState.Registered, "validate" }, { ModelState.Registered, "fail" }, { ModelState.Validated, "request" },
        { ModelState.PendingApproval, "approve" }, { ModelState.PendingApproval, "reject" }, { ModelState.PendingApproval, "withdraw" },
        { ModelState.Approved, "deploy" }, { ModelState.Approved, "archive" }, { ModelState.Deployed, "undeploy" },
    };

    [Theory]
    [MemberData(nameof(Moves))]
    public void EachMove_IsLegalOnlyFromItsState_AndOffersExactlyTheLegalOnes(ModelState legalFrom, string move)
    {
        foreach (var state in Enum.GetValues<ModelState>())
        {
            var version = In(state);
            var offered = version.NextStates();
            var legal = state == legalFrom;
            if (legal)
            {
                Do(version, move);
                // What pages offer is exactly where the move went (withdraw included: back to Validated).
                Assert.Contains(version.State, offered);
            }
            else
            {
                var error = Assert.Throws<DomainException>(() => Do(version, move));
                Assert.Contains("version 1", error.Message, StringComparison.Ordinal);
                Assert.Equal(state, version.State);
            }
        }
    }

    [Fact]
    public void AVersionServingTraffic_IsNotArchived_UntilItIsTakenOutOfService()
    {
        var deployed = In(ModelState.Deployed);

        var refused = Assert.Throws<DomainException>(() => deployed.Archive("superseded", _time));

        Assert.Contains("deployed and serves traffic", refused.Message, StringComparison.Ordinal);
        Assert.Equal(ModelState.Deployed, deployed.State);
        deployed.Undeploy(_time);
        deployed.Archive("superseded", _time);
        Assert.Equal(ModelState.Archived, deployed.State);
    }

    [Fact]
    public void NextStates_AreExactlyTheStatesTheMovesReach()
    {
        foreach (var state in Enum.GetValues<ModelState>())
        {
            var reached = new HashSet<ModelState>();
            foreach (var (_, move) in Moves.Select(m => ((ModelState)m[0], (string)m[1])))
            {
                var version = In(state);
                try
                {
                    Do(version, move);
                    reached.Add(version.State);
                }
                catch (DomainException)
                {
                    // Not legal from here.
                }
            }

            Assert.Equal(reached.Order(), In(state).NextStates().Order());
        }
    }

    [Fact]
    public void TheEntityAnswers_WhoMayEditTheCard_RequestApproval_AndArchive()
    {
        var ops = new Actor("olga@x", [Roles.Ops]);
        var viewer = new Actor("vic@x", [Roles.Viewer]);

        Assert.True(In(ModelState.Validated).MayEditCard(Author));
        Assert.False(In(ModelState.PendingApproval).MayEditCard(Author));
        Assert.False(In(ModelState.Validated).MayEditCard(viewer));
        Assert.Throws<DomainException>(() => In(ModelState.Approved).EditCard(ModelCard.Empty));
        Assert.True(In(ModelState.Validated).MayRequestApproval(Author));
        Assert.False(In(ModelState.Registered).MayRequestApproval(Author));
        Assert.False(In(ModelState.Validated).MayRequestApproval(ops));
        Assert.True(In(ModelState.Approved).MayArchive(ops));
        Assert.False(In(ModelState.Deployed).MayArchive(Author));
        Assert.False(In(ModelState.Validated).MayArchive(ops));
        Assert.False(In(ModelState.Approved).MayArchive(viewer));
    }

    [Fact]
    public void TwoApprovals_ApproveTheVersion_AndTheAuthorIsRefused()
    {
        var version = In(ModelState.Validated);
        var request = ApprovalRequest.Open(version, ApprovalPolicy.Default, AllChecks, Author, "ready", _time);

        Assert.Throws<NotPermittedException>(() => request.Decide(new Actor(Author.Name, [Roles.DataScientist, Roles.RiskReviewer]), Verdict.Approve, "mine", version, Hash, _time));
        Assert.Throws<NotPermittedException>(() => request.Decide(new Actor("dan@x", [Roles.DataScientist]), Verdict.Approve, "ok", version, Hash, _time));
        Assert.Throws<InvalidInputException>(() => request.Decide(Rita, Verdict.Approve, " ", version, Hash, _time));

        request.Decide(Rita, Verdict.Approve, "metrics hold up", version, Hash, _time);
        Assert.Equal(ModelState.PendingApproval, version.State);
        Assert.Throws<DomainException>(() => request.Decide(Rita, Verdict.Approve, "again", version, Hash, _time));
        request.Decide(Rob, Verdict.Approve, "fair across regions", version, Hash, _time);

        Assert.Equal(ApprovalState.Approved, request.State);
        Assert.Equal(ModelState.Approved, version.State);
        Assert.Throws<DomainException>(() => request.Decide(new Actor("third@x", [Roles.RiskReviewer]), Verdict.Reject, "late", version, Hash, _time));
    }

    [Fact]
    public void OneRejection_EndsTheRequest_WithItsReason()
    {
        var version = In(ModelState.Validated);
        var request = ApprovalRequest.Open(version, ApprovalPolicy.Default, AllChecks, Author, null, _time);

        request.Decide(Rita, Verdict.Reject, "worse than the champion on the holdout", version, Hash, _time);

        Assert.Equal(ApprovalState.Rejected, request.State);
        Assert.Equal(ModelState.Rejected, version.State);
        Assert.Equal("worse than the champion on the holdout", version.StateReason);
    }

    [Fact]
    public void AnExpiredRequest_OrAChangedArtifact_TakesNoDecision_AndTheVersionCanBeAskedAgain()
    {
        var version = In(ModelState.Validated);
        var request = ApprovalRequest.Open(version, ApprovalPolicy.Default, AllChecks, Author, null, _time);
        _time.Advance(TimeSpan.FromDays(15));

        Assert.Throws<DomainException>(() => request.Decide(Rita, Verdict.Approve, "ok", version, Hash, _time));
        Assert.Equal(ApprovalState.Expired, request.State);
        Assert.Equal(ModelState.Validated, version.State);

        var again = ApprovalRequest.Open(version, ApprovalPolicy.Default, AllChecks, Author, null, _time);
        Assert.Throws<DomainException>(() => again.Decide(Rita, Verdict.Approve, "ok", version, new string('b', 64), _time));
        Assert.Equal(ApprovalState.Void, again.State);
        Assert.Empty(again.Decisions);
    }

    [Fact]
    public void ApprovalCannotBeRequested_BeforeTheRequiredChecksPass()
    {
        var version = In(ModelState.Validated);

        var error = Assert.Throws<DomainException>(() => ApprovalRequest.Open(version, ApprovalPolicy.Default, new HashSet<string> { "data-validation" }, Author, null, _time));

        Assert.Contains("required-metrics, champion-comparison", error.Message, StringComparison.Ordinal);
        Assert.Equal(ModelState.Validated, version.State);
    }

    private ModelVersion In(ModelState state)
    {
        var version = ModelVersion.Register("credit-risk", 1, "0123456789abcdef0123456789abcdef", "outputs/model.pkl", Hash, Author, _time);
        var path = state switch
        {
            ModelState.Registered => [],
            ModelState.Validated => ["validate"],
            ModelState.Failed => ["fail"],
            ModelState.PendingApproval => ["validate", "request"],
            ModelState.Approved => ["validate", "request", "approve"],
            ModelState.Rejected => ["validate", "request", "reject"],
            ModelState.Deployed => ["validate", "request", "approve", "deploy"],
            _ => new[] { "validate", "request", "approve", "archive" },
        };
        foreach (var move in path)
        {
            Do(version, move);
        }

        return version;
    }

    private void Do(ModelVersion version, string move)
    {
        switch (move)
        {
            case "validate": version.PassValidation(_time); break;
            case "fail": version.FailValidation("AUC below 0.7", _time); break;
            case "request": version.RequestApproval(_time); break;
            case "approve": version.Approve(_time); break;
            case "reject": version.Reject("not fair", _time); break;
            case "withdraw": version.WithdrawRequest("expired", _time); break;
            case "deploy": version.Deploy(_time); break;
            case "undeploy": version.Undeploy(_time); break;
            default: version.Archive("superseded", _time); break;
        }
    }
}
