using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

/// <summary>The endpoint's rules (Azure ML's traffic model), every bad input the deployments issue lists, and the canary state machine.</summary>
public class EndpointTests
{
    private const int MaxInstances = 4;
    private readonly FixedTime _time = new();

    [Theory]
    [InlineData("ab")]
    [InlineData("a23456789012345678901234567890123")]
    [InlineData("Credit-risk")]
    [InlineData("credit risk")]
    [InlineData("credit-")]
    [InlineData("1credit")]
    [InlineData("credit_risk")]
    [InlineData("credit-risk\n")]
    public void BadEndpointNames_AreRefused_NamingTheField(string name)
    {
        var error = Assert.Throws<InvalidInputException>(() => Endpoint.Create(name, null, Some.Ops, _time, "p", "s"));
        Assert.Equal("name", error.Field);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("credit-risk")]
    [InlineData("a2345678901234567890123456789012")]
    public void GoodEndpointNames_AreTaken(string name) =>
        Assert.Equal(name, Endpoint.Create(name, null, Some.Ops, _time, "p", "s").Name);

    [Fact]
    public void DeployingAnApprovedVersion_RecordsItDeployed_AndASecondEndpointMayServeItToo()
    {
        var version = Version(ModelState.Approved);
        var first = New();
        var deployment = first.AddDeployment(Spec("blue"), version, MaxInstances, Some.Ops, _time);

        Assert.Equal(ModelState.Deployed, version.State);
        Assert.Equal(DeploymentState.Creating, deployment.State);
        Assert.Equal(version.ArtifactHash, deployment.ArtifactHash);
        Assert.Equal(0, first.Assignment.PercentOf("blue"));

        var second = New("other-endpoint");
        second.AddDeployment(Spec("green"), version, MaxInstances, Some.Ops, _time);
        Assert.Equal(ModelState.Deployed, version.State);
    }

    [Theory]
    [InlineData(ModelState.Registered)]
    [InlineData(ModelState.Validated)]
    [InlineData(ModelState.PendingApproval)]
    [InlineData(ModelState.Rejected)]
    [InlineData(ModelState.Archived)]
    [InlineData(ModelState.Failed)]
    public void AVersionThatIsNotApproved_IsRefused_AndNothingIsAdded(ModelState state)
    {
        var endpoint = New();
        var version = Version(state);

        var error = Assert.Throws<DomainException>(() => endpoint.AddDeployment(Spec("blue"), version, MaxInstances, Some.Ops, _time));

        Assert.Contains("only an approved version can be deployed", error.Message, StringComparison.Ordinal);
        Assert.Empty(endpoint.Deployments);
        Assert.Equal(state, version.State);
    }

    [Theory]
    [InlineData(0, 5000, "instanceCount")]
    [InlineData(1000, 5000, "instanceCount")]
    [InlineData(1, 0, "requestTimeoutMs")]
    [InlineData(1, 600_000, "requestTimeoutMs")]
    public void OutOfRangeSettings_AreRefusedPerField(int instances, int timeoutMs, string field)
    {
        var endpoint = New();
        var version = Version(ModelState.Approved);

        var error = Assert.Throws<InvalidInputException>(() =>
            endpoint.AddDeployment(Spec("blue") with { InstanceCount = instances, RequestTimeoutMs = timeoutMs }, version, MaxInstances, Some.Ops, _time));

        Assert.Equal(field, error.Field);
        Assert.Empty(endpoint.Deployments);
        Assert.Equal(ModelState.Approved, version.State);
    }

    [Fact]
    public void TheTwentyFirstDeployment_IsRefused()
    {
        var endpoint = New();
        var version = Version(ModelState.Approved);
        for (var i = 0; i < Endpoint.MaxDeployments; i++)
        {
            endpoint.AddDeployment(Spec($"d{i:00}"), version, MaxInstances, Some.Ops, _time);
        }

        var error = Assert.Throws<DomainException>(() => endpoint.AddDeployment(Spec("d20"), version, MaxInstances, Some.Ops, _time));

        Assert.Contains("20 deployments", error.Message, StringComparison.Ordinal);
        Assert.Equal(Endpoint.MaxDeployments, endpoint.Deployments.Count);
    }

    public static TheoryData<Dictionary<string, int>, string?, int, string> BadSplits => new()
    {
        { new() { ["blue"] = 50, ["green"] = 49 }, null, 0, "traffic" },
        { new() { ["blue"] = 101 }, null, 0, "traffic.blue" },
        { new() { ["blue"] = 110, ["green"] = -10 }, null, 0, "traffic.blue" },
        { new() { ["blue"] = 100, ["purple"] = 0, ["red"] = 1 }, null, 0, "traffic.red" },
        { new() { ["blue"] = 100 }, "shadow", 60, "mirror.percent" },
        { new() { ["blue"] = 90, ["green"] = 10 }, "green", 20, "mirror.deployment" },
        { new() { ["blue"] = 100 }, "nowhere", 10, "mirror.deployment" },
        { new(), "shadow", 10, "mirror.deployment" },
    };

    [Theory]
    [MemberData(nameof(BadSplits))]
    public void ASplitBreakingARule_IsRefusedNamingTheField_AndTrafficStaysAsItWas(Dictionary<string, int> traffic, string? mirror, int mirrorPercent, string field)
    {
        var endpoint = WithDeployments("blue", "green", "shadow");
        endpoint.SetTraffic(new TrafficAssignment(new Dictionary<string, int> { ["blue"] = 100 }), Some.Ops, _time);
        var before = endpoint.Assignment;
        var stamp = endpoint.ConcurrencyStamp;

        var error = Assert.Throws<InvalidInputException>(() => endpoint.SetTraffic(new TrafficAssignment(traffic, mirror, mirrorPercent), Some.Ops, _time));

        Assert.Contains(field, error.Errors.Fields);
        Assert.Equal(before, endpoint.Assignment);
        Assert.Equal(stamp, endpoint.ConcurrencyStamp);
        Assert.Single(endpoint.History);
    }

    [Fact]
    public void AValidSplit_IsRecordedWithBeforeAndAfter_AndAllZeroMeansNoTraffic()
    {
        var endpoint = WithDeployments("blue", "green", "shadow");

        endpoint.SetTraffic(new TrafficAssignment(new Dictionary<string, int> { ["blue"] = 90, ["green"] = 10 }, "shadow", 20), Some.Ops, _time);
        endpoint.SetTraffic(new TrafficAssignment(new Dictionary<string, int> { ["blue"] = 0, ["green"] = 0 }), Some.Ops, _time);

        Assert.False(endpoint.Assignment.TakesTraffic);
        Assert.Equal(2, endpoint.History.Count);
        Assert.Equal("blue 90 %, green 10 %; mirror 20 % to shadow", endpoint.History[0].After.Describe());
        Assert.Equal(TrafficChangeKind.Manual, endpoint.History[0].Kind);
        Assert.Equal(Some.Ops.Name, endpoint.History[0].Actor);
    }

    [Fact]
    public void ADeploymentWithTrafficOrMirror_CannotBeDeleted_OneWithoutCan()
    {
        var endpoint = WithDeployments("blue", "green", "shadow");
        endpoint.SetTraffic(new TrafficAssignment(new Dictionary<string, int> { ["blue"] = 100 }, "shadow", 10), Some.Ops, _time);

        Assert.Contains("takes 100 %", Assert.Throws<DomainException>(() => endpoint.RemoveDeployment("blue", Some.Ops, _time)).Message, StringComparison.Ordinal);
        Assert.Contains("mirror", Assert.Throws<DomainException>(() => endpoint.RemoveDeployment("shadow", Some.Ops, _time)).Message, StringComparison.Ordinal);
        endpoint.RemoveDeployment("green", Some.Ops, _time);

        Assert.Equal(DeploymentState.Deleting, endpoint.Get("green").State);
        Assert.Equal(DeploymentState.Creating, endpoint.Get("blue").State);
        endpoint.ForgetDeployment("green");
        Assert.Null(endpoint.Find("green"));
    }

    [Fact]
    public void TrafficToAFailedOrDeletingDeployment_IsRefused()
    {
        var endpoint = WithDeployments("blue", "green");
        endpoint.ReportHealth("green", DeploymentState.Failed, "its model file is missing", _time);

        var error = Assert.Throws<InvalidInputException>(() => endpoint.SetTraffic(Split(("blue", 50), ("green", 50)), Some.Ops, _time));

        Assert.Contains("its model file is missing", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_ReturnsToTheAssignmentBeforeTheLastChange_AndAgainUndoesThat()
    {
        var endpoint = WithDeployments("blue", "green");
        Assert.Throws<DomainException>(() => endpoint.Rollback(Some.Ops, _time));
        endpoint.SetTraffic(Split(("blue", 100)), Some.Ops, _time);
        endpoint.SetTraffic(Split(("blue", 50), ("green", 50)), Some.Ops, _time);

        endpoint.Rollback(Some.Ops, _time);
        Assert.Equal(Split(("blue", 100)), endpoint.Assignment);
        Assert.Equal(TrafficChangeKind.Rollback, endpoint.History[^1].Kind);

        endpoint.Rollback(Some.Ops, _time);
        Assert.Equal(Split(("blue", 50), ("green", 50)), endpoint.Assignment);
    }

    [Fact]
    public void Rollback_AfterACompletedCanary_ReturnsToTheSplitBeforeIt_AndAfterAnAutomaticRollback_ToTheProductionSplitBeforeThat()
    {
        var endpoint = Serving();
        endpoint.ReportHealth("canary", DeploymentState.Healthy, null, _time);
        endpoint.StartRollout(Plan(), Some.Ops, _time);
        _time.Advance(TimeSpan.FromSeconds(30));
        endpoint.ObserveRollout(Healthy(50), _time);
        _time.Advance(TimeSpan.FromSeconds(30));
        endpoint.ObserveRollout(Healthy(50), _time);
        Assert.Equal(Split(("canary", 100)), endpoint.Assignment);

        // A second canary (blue again, now the challenger) breaks its gate and is rolled back automatically.
        endpoint.StartRollout(Plan() with { Canary = "blue" }, Some.Ops, _time);
        endpoint.ObserveRollout(new RolloutObservation(40, [new GateReading(Plan().Gates[0], 0.5, 0.0)]), _time);
        Assert.Equal(Split(("canary", 100)), endpoint.Assignment);

        endpoint.Rollback(Some.Ops, _time);

        Assert.Equal(Split(("blue", 100)), endpoint.Assignment);
        Assert.DoesNotContain(endpoint.History, h => h.Kind == TrafficChangeKind.Rollback && h.After.Traffic.Count > 1);
    }

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

    [Fact]
    public void OnlyOpsAndAdministrators_OperateEndpoints()
    {
        Assert.True(Endpoint.MayOperate(Some.Ops));
        Assert.True(Endpoint.MayOperate(Some.Admin));
        Assert.False(Endpoint.MayOperate(Some.Scientist));
        Assert.False(Endpoint.MayOperate(Some.Reviewer));
        Assert.False(Endpoint.MayOperate(new Actor("v@x", [Roles.Viewer])));
    }

    private static RolloutPlan Plan() => new("canary", [10, 100], 20, [new HealthGate(GateMetric.ErrorRate, 0.05), new HealthGate(GateMetric.P95LatencyMs, 2, GateMode.RelativeToPrimary)]);

    private static RolloutObservation Healthy(int requests) => new(requests, [new GateReading(Plan().Gates[0], 0.0, 0.0), new GateReading(Plan().Gates[1], 5, 5)]);

    private static TrafficAssignment Split(params (string Name, int Percent)[] shares) => new(shares.ToDictionary(s => s.Name, s => s.Percent));

    private Endpoint New(string name = "credit-risk") => Endpoint.Create(name, null, Some.Ops, _time, new string('1', 64), new string('2', 64));

    private Endpoint WithDeployments(params string[] names)
    {
        var endpoint = New();
        var version = Version(ModelState.Approved);
        foreach (var name in names)
        {
            endpoint.AddDeployment(Spec(name), version, MaxInstances, Some.Ops, _time);
        }

        return endpoint;
    }

    /// <summary>blue (healthy) takes all traffic; canary is added and still starting.</summary>
    private Endpoint Serving()
    {
        var endpoint = WithDeployments("blue", "canary");
        endpoint.ReportHealth("blue", DeploymentState.Healthy, null, _time);
        endpoint.SetTraffic(Split(("blue", 100)), Some.Ops, _time);
        return endpoint;
    }

    private static DeploymentSpec Spec(string name) => new(name, "credit-risk", 1);

    private ModelVersion Version(ModelState state)
    {
        var version = ModelVersion.Register("credit-risk", 1, "0123456789abcdef0123456789abcdef", "outputs/model.pkl", new string('a', 64), Some.Scientist, _time);
        if (state == ModelState.Failed)
        {
            version.FailValidation("AUC too low", _time);
            return version;
        }

        var path = state switch
        {
            ModelState.Registered => 0,
            ModelState.Validated => 1,
            ModelState.PendingApproval => 2,
            ModelState.Rejected => -2,
            _ => 3,
        };
        if (path != 0)
        {
            version.PassValidation(_time);
        }

        if (Math.Abs(path) >= 2)
        {
            version.RequestApproval(_time);
        }

        if (path == -2)
        {
            version.Reject("unfair", _time);
        }
        else if (path >= 3)
        {
            version.Approve(_time);
            if (state == ModelState.Deployed)
            {
                version.Deploy(_time);
            }
            else if (state == ModelState.Archived)
            {
                version.Archive("retired", _time);
            }
        }

        return version;
    }
}
