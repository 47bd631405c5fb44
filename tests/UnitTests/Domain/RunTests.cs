using Portal.Domain.Experiments;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

/// <summary>A run's own state changes; MLflow's key and value rules are in TrackingRulesTests.</summary>
public class RunTests
{
    private readonly FixedTime _time = new();

    [Fact]
    public void ABatchOfMetrics_IsAnnouncedOnce_WithEachKeyOnce()
    {
        var run = Run.Start(1, "baseline", Some.Scientist, null, _time);

        run.Observe([new MetricPoint("loss", 0.9, 1000, 0), new MetricPoint("loss", 0.5, 2000, 1), new MetricPoint("auc", 0.7, 2000, 1)], _time);

        var logged = Assert.IsType<MetricsLogged>(Assert.Single(run.DomainEvents));
        Assert.Equal(["auc", "loss"], logged.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(0.5, run.Metrics["loss"].Value);
    }

    [Fact]
    public void EndingARun_SetsItsEndTime_AndAnnouncesTheNewStatus()
    {
        var run = Run.Start(1, "baseline", Some.Scientist, null, _time);
        _time.Advance(TimeSpan.FromMinutes(5));

        run.Update(RunStatus.Finished, null, null, _time);

        Assert.Equal(RunStatus.Finished, run.Status);
        Assert.Equal(TimeSpan.FromMinutes(5), run.EndTime - run.StartTime);
        Assert.Equal(RunStatus.Finished, Assert.IsType<RunStatusChanged>(Assert.Single(run.DomainEvents)).Status);
    }

    [Fact]
    public void DeletingATag_ThatIsNotThere_SaysWhichTag()
    {
        var run = Run.Start(1, "baseline", Some.Scientist, null, _time);
        run.SetTag("team", "credit");

        run.DeleteTag("team");
        var e = Assert.Throws<TrackingException>(() => run.DeleteTag("team"));

        Assert.Equal("RESOURCE_DOES_NOT_EXIST", e.Code);
        Assert.Contains("No tag with name: team", e.Message, StringComparison.Ordinal);
        Assert.False(run.Tags.ContainsKey("team"));
    }

    [Fact]
    public void Inputs_KeepTheirOrder_AndAreRecordedOnce()
    {
        var run = Run.Start(1, "baseline", Some.Scientist, null, _time);

        run.AddInput("dataset:credit:2");
        run.AddInput("dataset:credit:1");
        run.AddInput("dataset:credit:2");

        Assert.Equal(["dataset:credit:2", "dataset:credit:1"], run.Inputs);
    }
}
