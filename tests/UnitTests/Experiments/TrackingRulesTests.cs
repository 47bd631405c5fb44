using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Experiments;

public class TrackingRulesTests
{
    private static readonly Actor Scientist = new("ada@demo.local", [Portal.Domain.Identity.Roles.DataScientist]);
    private readonly FixedTime _time = new();

    [Theory]
    [InlineData("loss")]
    [InlineData("train/loss")]
    [InlineData("val acc:top-5 (v2)", false)]
    [InlineData("a.b_c-d e:f/g")]
    [InlineData("épsilon")]
    public void MlflowKeys_AreAccepted(string key, bool valid = true) =>
        Assert.Equal(valid, TrackingRules.KeyProblem(key, "key") is null);

    [Theory]
    [InlineData("../x", "resolve")]
    [InlineData("a//b", "resolve to 'a/b'")]
    [InlineData("/x", "resolve")]
    [InlineData("a/./b", "resolve to 'a/b'")]
    [InlineData(".", "resolve")]
    [InlineData("x;rm", "only contain")]
    [InlineData("", "Missing value")]
    public void KeysMlflowRefuses_AreRefusedWithItsReason(string key, string reason) =>
        Assert.Contains(reason, TrackingRules.KeyProblem(key, "key"));

    [Fact]
    public void KeysLongerThan250Characters_AreRefused()
    {
        Assert.Null(TrackingRules.KeyProblem(new string('k', 250), "key"));
        Assert.Contains("maximum length of 250", TrackingRules.KeyProblem(new string('k', 251), "key"));
    }

    [Fact]
    public void Params_AreWriteOnce_TheSameValueAgainIsFine()
    {
        var run = Run.Start(1, "baseline", Scientist, null, _time);
        run.LogParam("depth", "5");
        run.LogParam("depth", "5");

        var refused = Assert.Throws<TrackingException>(() => run.LogParam("depth", "6"));

        Assert.Equal("INVALID_PARAMETER_VALUE", refused.Code);
        Assert.Contains("Changing param values is not allowed", refused.Message);
        Assert.Equal("5", run.Params["depth"]);
    }

    [Fact]
    public void ParamValuesOver6000Characters_AreRefused()
    {
        var run = Run.Start(1, null, Scientist, null, _time);
        run.LogParam("ok", new string('v', 6000));

        Assert.Equal("INVALID_PARAMETER_VALUE", Assert.Throws<TrackingException>(() => run.LogParam("long", new string('v', 6001))).Code);
    }

    [Fact]
    public void LatestMetric_IsTheHighestStep_NotTheLastLogged()
    {
        var run = Run.Start(1, null, Scientist, null, _time);

        run.Observe([new MetricPoint("loss", 0.5, 2000, 2), new MetricPoint("loss", 0.9, 1000, 1), new MetricPoint("auc", double.NaN, 1000, 0)], _time);

        Assert.Equal(0.5, run.Metrics["loss"].Value);
        Assert.True(double.IsNaN(run.Metrics["auc"].Value));
    }

    [Fact]
    public void AnEndedRun_KeepsItsRecord_ButTagsCanStillChange()
    {
        var run = Run.Start(1, null, Scientist, null, _time);
        run.Update(RunStatus.Finished, null, null, _time);

        Assert.NotNull(run.EndTime);
        Assert.Equal("INVALID_STATE", Assert.Throws<TrackingException>(() => run.LogParam("late", "1")).Code);
        Assert.Equal("INVALID_STATE", Assert.Throws<TrackingException>(() => run.Observe([new MetricPoint("loss", 1, 1, 1)], _time)).Code);
        Assert.Equal("INVALID_STATE", Assert.Throws<TrackingException>(() => run.Update(RunStatus.Killed, null, null, _time)).Code);
        run.SetTag("note", "best so far");
        run.Update(RunStatus.Finished, null, "renamed", _time);
        Assert.Equal("renamed", run.Name);
    }

    [Fact]
    public void AnEndedRun_ResumesAsRunning_AsMlflowStartRunWithARunIdDoes_AndThenTakesMetricsAgain()
    {
        var run = Run.Start(1, null, Scientist, null, _time);
        run.Update(RunStatus.Finished, null, null, _time);

        run.Update(RunStatus.Running, null, null, _time);
        run.Observe([new MetricPoint("loss", 0.2, 3000, 3)], _time);

        Assert.Equal(RunStatus.Running, run.Status);
        Assert.Null(run.EndTime);
        Assert.Equal(0.2, run.Metrics["loss"].Value);
    }

    [Fact]
    public void ALostRun_FailsWithTheReason_UnlessItAlreadyEnded()
    {
        var lost = Run.Start(1, null, Scientist, null, _time);
        var done = Run.Start(1, null, Scientist, null, _time);
        done.Update(RunStatus.Killed, null, null, _time);

        lost.MarkLost("lost", _time);
        done.MarkLost("lost", _time);

        Assert.Equal(RunStatus.Failed, lost.Status);
        Assert.Equal("lost", lost.Tags["mlflow.portal.failure"]);
        Assert.Equal(RunStatus.Killed, done.Status);
    }

    [Fact]
    public void Metrics_NeedAValueAndATimestamp()
    {
        Assert.Contains("'value'", Assert.Throws<TrackingException>(() => MetricPoint.Create("loss", null, 1, 0)).Message);
        Assert.Contains("'timestamp'", Assert.Throws<TrackingException>(() => MetricPoint.Create("loss", 1, null, 0)).Message);
        Assert.Equal(0, MetricPoint.Create("loss", 1, 5, null).Step);
    }

    [Fact]
    public void ExperimentNames_AreRequired()
    {
        Assert.Equal("INVALID_PARAMETER_VALUE", Assert.Throws<TrackingException>(() => Experiment.Create("  ", Scientist, _time)).Code);
        Assert.Equal("churn", Experiment.Create(" churn ", Scientist, _time).Name);
    }
}
