using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

/// <summary>The endpoint's rules (Azure ML's traffic model) and every bad input the deployments issue lists.</summary>
public class EndpointTests : EndpointFixtures
{
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

    [Fact]
    public void OnlyOpsAndAdministrators_OperateEndpoints()
    {
        Assert.True(Endpoint.MayOperate(Some.Ops));
        Assert.True(Endpoint.MayOperate(Some.Admin));
        Assert.False(Endpoint.MayOperate(Some.Scientist));
        Assert.False(Endpoint.MayOperate(Some.Reviewer));
        Assert.False(Endpoint.MayOperate(new Actor("v@x", [Roles.Viewer])));
    }
}
