using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

/// <summary>The canary state machine: steps, gates, waits, rollbacks, and what survives a restart.</summary>
public class EndpointRolloutTests : EndpointFixtures
{
    [Theory]
    [InlineData(70, 30, 10, 63, 27)]
    [InlineData(50, 50, 33, 34, 33)]
    [InlineData(99, 1, 50, 50, 0)]
    public void ACanaryStep_ScalesTheOthersInProportion_InWholePercentagesAddingTo100(int blue, int green, int canary, int expectedBlue, int expectedGreen)
    {
        var next = Split(("blue", blue), ("green", green)).WithCanary("canary", canary);

        Assert.Equal(expectedBlue, next.PercentOf("blue"));
        Assert.Equal(expectedGreen, next.PercentOf("green"));
        Assert.Equal(canary, next.PercentOf("canary"));
        Assert.Equal(100, next.Traffic.Values.Sum());
    }

    [Fact]
    public void ACanary_GetsTrafficOnlyOnceHealthy_StepsThroughItsPlan_AndCompletes()
    {
        var endpoint = Serving();
        var rollout = endpoint.StartRollout(Plan(), Some.Ops, _time);

        Assert.Equal(RolloutState.WaitingForHealthy, rollout.State);
        Assert.Equal(0, endpoint.Assignment.PercentOf("canary"));
        Assert.Null(endpoint.ObserveRollout(Healthy(0), _time));

        endpoint.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        endpoint.ObserveRollout(Healthy(0), _time);
        Assert.Equal(10, endpoint.Assignment.PercentOf("canary"));
        Assert.Equal(90, endpoint.Assignment.PercentOf("blue"));

        _time.Advance(TimeSpan.FromSeconds(30));
        endpoint.ObserveRollout(Healthy(50), _time);
        Assert.Equal(100, endpoint.Assignment.PercentOf("canary"));

        _time.Advance(TimeSpan.FromSeconds(30));
        var last = endpoint.ObserveRollout(Healthy(50), _time);

        Assert.Null(endpoint.ActiveRollout);
        Assert.Equal(RolloutState.Completed, endpoint.PastRollouts[^1].State);
        Assert.Contains("takes all traffic", last!.Message, StringComparison.Ordinal);
        Assert.Equal([TrafficChangeKind.Manual, TrafficChangeKind.Rollout, TrafficChangeKind.Rollout], endpoint.History.Select(h => h.Kind));
    }

    [Fact]
    public void ABreachedGate_ReturnsAllTrafficToTheAssignmentBefore_AtOnce_AndSaysWhy()
    {
        var endpoint = Serving();
        endpoint.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        endpoint.StartRollout(Plan(), Some.Ops, _time);
        Assert.Equal(10, endpoint.Assignment.PercentOf("canary"));

        _time.Advance(TimeSpan.FromSeconds(5));
        var breach = endpoint.ObserveRollout(new RolloutObservation(40, [new GateReading(Plan().Gates[0], 0.3, 0.0)]), _time);

        Assert.Equal(Split(("blue", 100)), endpoint.Assignment);
        var ended = endpoint.PastRollouts[^1];
        Assert.Equal(RolloutState.RolledBack, ended.State);
        Assert.True(breach!.IsProblem);
        Assert.Contains("error rate above 5%", breach.Message, StringComparison.Ordinal);
        Assert.Contains("30%", breach.Message, StringComparison.Ordinal);
        Assert.Equal(TrafficChangeKind.AutomaticRollback, endpoint.History[^1].Kind);
    }

    [Fact]
    public void AGateIsNotJudgedOnTooFewRequests_TheStepBakesOn_ThenRollsBackSayingSo()
    {
        var endpoint = Serving();
        endpoint.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        endpoint.StartRollout(Plan(), Some.Ops, _time);

        var noisy = new RolloutObservation(3, [new GateReading(Plan().Gates[0], 1.0, 0.0)]);
        _time.Advance(TimeSpan.FromSeconds(25));
        Assert.Null(endpoint.ObserveRollout(noisy, _time));
        Assert.Equal(10, endpoint.Assignment.PercentOf("canary"));

        _time.Advance(TimeSpan.FromSeconds(40));
        var ended = endpoint.ObserveRollout(noisy, _time);

        Assert.Contains("needs 20 to be judged", ended!.Message, StringComparison.Ordinal);
        Assert.Equal(Split(("blue", 100)), endpoint.Assignment);
    }

    [Theory]
    [InlineData(DeploymentState.Unhealthy)]
    [InlineData(DeploymentState.Failed)]
    public void ACanaryThatFails_RollsBack_WhetherWaitingOrBaking(DeploymentState failure)
    {
        var waiting = Serving();
        waiting.StartRollout(Plan(), Some.Ops, _time);
        waiting.ReportHealth("canary", failure, "exited 5 times; last log: ImportError", _time);
        Assert.Contains("ImportError", waiting.ObserveRollout(Healthy(0), _time)!.Message, StringComparison.Ordinal);
        Assert.Equal(RolloutState.RolledBack, waiting.PastRollouts[^1].State);

        var baking = Serving();
        baking.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        baking.StartRollout(Plan(), Some.Ops, _time);
        baking.ReportHealth("canary", failure, "requests time out", _time);
        baking.ObserveRollout(Healthy(100), _time);
        Assert.Equal(Split(("blue", 100)), baking.Assignment);
    }

    [Fact]
    public void ACanaryNeverHealthy_RollsBackAfterTheWait()
    {
        var endpoint = Serving();
        endpoint.StartRollout(Plan() with { WaitForHealthySeconds = 60 }, Some.Ops, _time);
        _time.Advance(TimeSpan.FromSeconds(61));

        Assert.Contains("did not become healthy within 60 s", endpoint.ObserveRollout(Healthy(0), _time)!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void EditingTrafficByHand_CancelsTheRollout_AndStoppingReturnsToTheBaseline()
    {
        var edited = Serving();
        edited.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        edited.StartRollout(Plan(), Some.Ops, _time);
        edited.SetTraffic(Split(("blue", 80), ("canary", 20)), Some.Ops, _time);
        Assert.Equal(RolloutState.Canceled, edited.PastRollouts[^1].State);
        Assert.Equal(20, edited.Assignment.PercentOf("canary"));

        var stopped = Serving();
        stopped.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        stopped.StartRollout(Plan(), Some.Ops, _time);
        stopped.StopRollout(Some.Ops, _time);
        Assert.Equal(Split(("blue", 100)), stopped.Assignment);
        Assert.Equal(TrafficChangeKind.Rollback, stopped.History[^1].Kind);
    }

    [Fact]
    public void AfterARestart_TheStepBakesAgain_AndTheTimelineSaysSo()
    {
        var endpoint = Serving();
        endpoint.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        endpoint.StartRollout(Plan(), Some.Ops, _time);
        _time.Advance(TimeSpan.FromSeconds(25));

        var resumed = endpoint.ResumeAfterRestart(_time);
        _time.Advance(TimeSpan.FromSeconds(10));
        endpoint.ObserveRollout(Healthy(50), _time);

        Assert.Contains("bakes again", resumed!.Message, StringComparison.Ordinal);
        Assert.Equal(10, endpoint.Assignment.PercentOf("canary"));
    }

    public static TheoryData<RolloutPlan, string> BadPlans => new()
    {
        { Plan() with { Steps = [] }, "steps" },
        { Plan() with { Steps = [50, 10, 100] }, "steps" },
        { Plan() with { Steps = [10, 50] }, "steps" },
        { Plan() with { BakeSeconds = 1 }, "bakeSeconds" },
        { Plan() with { Gates = [] }, "gates" },
        { Plan() with { Gates = [new HealthGate(GateMetric.ErrorRate, 5)] }, "gates[0]" },
        { Plan() with { Gates = [new HealthGate(GateMetric.P95LatencyMs, 0.5, GateMode.RelativeToPrimary)] }, "gates[0]" },
        { Plan() with { Canary = "blue" }, "canary" },
        { Plan() with { Canary = "nope" }, "canary" },
    };

    [Theory]
    [MemberData(nameof(BadPlans))]
    public void ABadPlan_IsRefusedNamingTheField_AndNothingStarts(RolloutPlan plan, string field)
    {
        var endpoint = Serving();

        var error = Assert.Throws<InvalidInputException>(() => endpoint.StartRollout(plan, Some.Ops, _time));

        Assert.Contains(field, error.Errors.Fields);
        Assert.Null(endpoint.ActiveRollout);
    }

    [Theory]
    [InlineData(GateMode.Absolute, 0.05, 0.06, 0.0, true)]
    [InlineData(GateMode.Absolute, 0.05, 0.05, 0.0, false)]
    [InlineData(GateMode.RelativeToPrimary, 2, 0.005, 0.0, false)]
    [InlineData(GateMode.RelativeToPrimary, 2, 0.05, 0.02, true)]
    [InlineData(GateMode.RelativeToPrimary, 2, 0.03, 0.02, false)]
    public void ErrorRateGates_CompareAbsolutelyOrAgainstThePrimary(GateMode mode, double threshold, double canary, double primary, bool breached) =>
        Assert.Equal(breached, new HealthGate(GateMetric.ErrorRate, threshold, mode).IsBreachedBy(canary, primary));
}
