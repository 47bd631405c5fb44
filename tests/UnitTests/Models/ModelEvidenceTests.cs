using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Features.Models;
using Portal.Features.Notifications;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Models;

/// <summary>Checks moving a version on, the reviewer's risk reading, safe model cards and who hears about decisions.</summary>
public class ModelEvidenceTests
{
    private static readonly Actor Author = new("sam@x", [Roles.DataScientist]);
    private readonly FixedTime _time = new();

    private static ValidationSettings Settings => new(new Dictionary<string, double>(), "credit-risk", "defaulted", "auc", 0.02, "employment", 0.2);

    private ModelVersion NewVersion() => ModelVersion.Register("scorer", 1, "run1", "outputs/model.pkl", new string('b', 64), Author, _time);

    [Fact]
    public void AVersion_StaysRegisteredUntilEveryCheckHasAnOutcome_ThenIsValidated()
    {
        var version = NewVersion();
        foreach (var name in ModelChecks.All.Take(3))
        {
            version.RecordCheck(new ModelCheck(name, CheckStatus.Passed, "ok", _time.UtcNow()), ModelChecks.All, _time);
            Assert.Equal(ModelState.Registered, version.State);
        }

        version.RecordCheck(new ModelCheck(ModelChecks.SliceMetrics, CheckStatus.Passed, "even", _time.UtcNow()), ModelChecks.All, _time);

        Assert.Equal(ModelState.Validated, version.State);
        Assert.Throws<DomainException>(() => version.RecordCheck(new ModelCheck(ModelChecks.SliceMetrics, CheckStatus.Failed, "late", _time.UtcNow()), ModelChecks.All, _time));
    }

    [Fact]
    public void ARequiredCheckFailing_FailsTheVersionNamingIt_WhileAnOptionalOneIsOnlyAWarning()
    {
        var strict = NewVersion();
        var lenient = NewVersion();
        foreach (var version in new[] { strict, lenient })
        {
            var required = version == strict ? ModelChecks.All : [ModelChecks.DataValidation];
            foreach (var name in ModelChecks.All)
            {
                var failed = name == ModelChecks.SliceMetrics;
                version.RecordCheck(new ModelCheck(name, failed ? CheckStatus.Failed : CheckStatus.Passed, failed ? "gap 0.4 > 0.2" : "ok", _time.UtcNow()), required, _time);
            }
        }

        Assert.Equal(ModelState.Failed, strict.State);
        Assert.Equal("Slice metrics: gap 0.4 > 0.2", strict.StateReason);
        Assert.Equal(ModelState.Validated, lenient.State);
        Assert.Equal(RiskLevel.High, ReviewRisk.Assess(lenient, Settings).Level);
    }

    [Fact]
    public void Risk_IsMediumForAFirstVersion_AndLowWhenEvenAndAsGoodAsTheChampion()
    {
        var first = Validated(new ModelEvaluation("auc", true, 0.8, null, null, "dataset:d:1", 100, "employment", [new("a", 50, 0.8, null), new("b", 50, 0.75, null)], "r"));
        var better = Validated(new ModelEvaluation("auc", true, 0.8, 0.79, "scorer version 0", "dataset:d:1", 100, "employment", [new("a", 50, 0.8, 0.79), new("b", 50, 0.78, 0.77)], "r"));

        Assert.Equal(RiskLevel.Medium, ReviewRisk.Assess(first, Settings).Level);
        Assert.Contains(ReviewRisk.Assess(first, Settings).Reasons, r => r.Contains("first version", StringComparison.Ordinal));
        Assert.Equal(RiskLevel.Low, ReviewRisk.Assess(better, Settings).Level);
    }

    [Fact]
    public void SlicesTooSmallToScore_AreShownButLeftOutOfTheGap()
    {
        var evaluation = new ModelEvaluation("auc", true, 0.7, null, null, "dataset:d:1", 1000, "employment",
            [new("salaried", 600, 0.72, null), new("retired", 300, 0.66, null), new("gig", 12, 0.95, null)], "r");

        Assert.Equal(0.29, evaluation.SliceGap(1)!.Value, 6);
        Assert.Equal(0.06, evaluation.SliceGap(30)!.Value, 6);
        Assert.Equal(["salaried", "retired"], evaluation.ComparableSlices(30).Select(s => s.Slice));
        Assert.Null(evaluation.SliceGap(500));
        Assert.Equal("minSliceRows: at least 1.", (Settings with { MinSliceRows = 0 }).Problem());
    }

    [Theory]
    [InlineData("<script>alert('x')</script>", "<script")]
    [InlineData("<img src=x onerror=alert(1)>", "<img")]
    [InlineData("[click](javascript:alert(1))", "javascript:")]
    [InlineData("![pixel](data:image/svg+xml;base64,PHN2Zz4=)", "data:")]
    [InlineData("<a href=\"https://x\" onclick=\"steal()\">x</a>", "onclick=\"")]
    public void AModelCard_IsRenderedInert(string markdown, string mustNotAppear)
    {
        var html = SafeMarkdown.ToHtml("**Intended use** " + markdown).Value;

        Assert.DoesNotContain(mustNotAppear, html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("<strong>Intended use</strong>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void AModelCard_KeepsOrdinaryMarkdownAndWebLinks()
    {
        var html = SafeMarkdown.ToHtml("| a | b |\n|---|---|\n| 1 | 2 |\n\nSee [the paper](https://arxiv.org/abs/1810.03993) and [lineage](/lineage).").Value;

        Assert.Contains("<table>", html, StringComparison.Ordinal);
        Assert.Contains("href=\"https://arxiv.org/abs/1810.03993\"", html, StringComparison.Ordinal);
        Assert.Contains("href=\"/lineage\"", html, StringComparison.Ordinal);
        Assert.Contains("rel=\"noopener noreferrer nofollow\"", html, StringComparison.Ordinal);
    }

    [Fact]
    public void ADecision_ReachesTheAuthorLive_NotOtherScientists_AndARequestReachesOtherReviewers()
    {
        var reviewer = new Actor("rita@x", [Roles.RiskReviewer]);
        var other = new Actor("otto@x", [Roles.DataScientist]);
        var approved = new ApprovalDecided(Guid.NewGuid(), "scorer", 3, "rita@x", Verdict.Approve, "Fine.", ApprovalState.Approved, 2, 2, "sam@x", "sam@x", _time.UtcNow());
        var requested = new ApprovalRequested(Guid.NewGuid(), "scorer", 3, "sam@x", Roles.RiskReviewer, _time.UtcNow());

        var toAuthor = NotificationRules.Describe(approved, Author)!;

        Assert.Equal("Model approved", toAuthor.Summary);
        Assert.Contains("policy is met (2 of 2)", toAuthor.Detail, StringComparison.Ordinal);
        Assert.Equal("/models/scorer/versions/3", toAuthor.Link);
        Assert.Null(NotificationRules.Describe(approved, other));
        Assert.Null(NotificationRules.Describe(approved, reviewer));
        Assert.Equal("Review requested", NotificationRules.Describe(requested, reviewer)!.Summary);
        Assert.Null(NotificationRules.Describe(requested, Author));
    }

    private ModelVersion Validated(ModelEvaluation evaluation)
    {
        var version = NewVersion();
        version.RecordEvaluation(evaluation);
        version.EditCard(new ModelCard("Scoring loans.", "", "", "", ""));
        foreach (var name in ModelChecks.All)
        {
            version.RecordCheck(new ModelCheck(name, CheckStatus.Passed, "ok", _time.UtcNow()), ModelChecks.All, _time);
        }

        return version;
    }
}
