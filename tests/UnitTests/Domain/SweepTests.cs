using Portal.Domain.Common;
using Portal.Domain.Sweeps;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

public class SweepTests
{
    private readonly FixedTime _time = new();

    [Fact]
    public void AGrid_IsEveryCombinationOfTheValues()
    {
        var sweep = Some.GridSweep(_time);

        Assert.Equal(6, sweep.Trials.Count);
        Assert.Equal(6, sweep.Trials.Select(t => $"{t["lr"]}/{t["depth"]}").Distinct().Count());
        Assert.All(sweep.Trials, t => Assert.Contains(t["depth"], new[] { "3", "5", "7" }));
    }

    [Fact]
    public void AGrid_IsCutToMaxTrials()
    {
        Assert.Equal(4, Some.GridSweep(_time, maxTrials: 4).Trials.Count);
    }

    [Fact]
    public void RandomTrials_FollowTheSpace_AndTheSameSeedDrawsTheSameTrials()
    {
        Sweep Draw(int seed) => Sweep.Create("random", 1, "run-parent", "python3 train.py", null, new Dictionary<string, string>(), SweepStrategy.Random,
            [new ParamSpace("lr", Min: 0.0001, Max: 0.1, Log: true), new ParamSpace("trees", Min: 10, Max: 50, Integer: true), new ParamSpace("loss", ["log", "hinge"])],
            "val_auc", ObjectiveDirection.Maximize, 30, 2, seed, Some.Scientist, _time);

        var sweep = Draw(7);

        Assert.Equal(30, sweep.Trials.Count);
        Assert.All(sweep.Trials, t =>
        {
            Assert.InRange(double.Parse(t["lr"], System.Globalization.CultureInfo.InvariantCulture), 0.0001, 0.1);
            Assert.InRange(int.Parse(t["trees"], System.Globalization.CultureInfo.InvariantCulture), 10, 50);
            Assert.Contains(t["loss"], new[] { "log", "hinge" });
        });
        Assert.Equal(sweep.Trials.Select(t => t["lr"]), Draw(7).Trials.Select(t => t["lr"]));
        Assert.NotEqual(sweep.Trials.Select(t => t["lr"]), Draw(8).Trials.Select(t => t["lr"]));
    }

    [Fact]
    public void ABadSweep_ListsEveryProblemAtOnce_NamingEachField()
    {
        var e = Assert.Throws<DomainException>(() => Sweep.Create("s", 1, "run-parent", "python3 train.py", null, new Dictionary<string, string>(), SweepStrategy.Grid,
            [new ParamSpace("lr", ["0.1"]), new ParamSpace("lr", ["0.2"]), new ParamSpace("depth", Min: 1, Max: 5)],
            " ", ObjectiveDirection.Maximize, 0, 100, 1, Some.Scientist, _time));

        Assert.Contains("space.lr: the param appears twice.", e.Message, StringComparison.Ordinal);
        Assert.Contains("space.depth: a grid search needs a list of values", e.Message, StringComparison.Ordinal);
        Assert.Contains("objective:", e.Message, StringComparison.Ordinal);
        Assert.Contains("maxTrials:", e.Message, StringComparison.Ordinal);
        Assert.Contains("maxConcurrent:", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TrialsAreTakenInOrder_UntilNoneAreLeft()
    {
        var sweep = Some.GridSweep(_time, maxTrials: 2);

        Assert.Same(sweep.Trials[0], sweep.TakeNextTrial());
        Assert.Same(sweep.Trials[1], sweep.TakeNextTrial());
        Assert.Null(sweep.TakeNextTrial());
        Assert.Equal(2, sweep.Launched);
    }

    [Fact]
    public void ACanceledSweep_LaunchesNoMoreTrials_AndStaysCanceled()
    {
        var sweep = Some.GridSweep(_time);
        sweep.TakeNextTrial();

        Assert.True(sweep.Cancel(Some.Scientist, _time));
        sweep.Complete(_time);

        Assert.Equal(SweepStatus.Canceled, sweep.Status);
        Assert.Null(sweep.TakeNextTrial());
        Assert.False(sweep.Cancel(Some.Admin, _time));
    }

    [Fact]
    public void OnlyTheCreatorOrAnAdministrator_MayCancelASweep()
    {
        var sweep = Some.GridSweep(_time);

        Assert.Throws<NotPermittedException>(() => sweep.Cancel(Some.OtherScientist, _time));
        Assert.Throws<NotPermittedException>(() => sweep.Cancel(Some.Ops, _time));
        Assert.Equal(SweepStatus.Running, sweep.Status);
        Assert.Null(sweep.CancelRefusal(Some.Admin));
    }

    [Theory]
    [InlineData(ObjectiveDirection.Maximize, 0.9, 0.8, true)]
    [InlineData(ObjectiveDirection.Maximize, 0.7, 0.8, false)]
    [InlineData(ObjectiveDirection.Minimize, 0.7, 0.8, true)]
    [InlineData(ObjectiveDirection.Minimize, double.NaN, null, false)]
    [InlineData(ObjectiveDirection.Minimize, 3.0, null, true)]
    public void TheBestTrial_FollowsTheObjectivesDirection(ObjectiveDirection direction, double value, double? best, bool better)
    {
        var sweep = Sweep.Create("s", 1, "run-parent", "python3 train.py", null, new Dictionary<string, string>(), SweepStrategy.Grid,
            [new ParamSpace("lr", ["0.1"])], "loss", direction, 1, 1, 1, Some.Scientist, _time);

        Assert.Equal(better, sweep.IsBetter(value, best));
    }
}
