using Portal.Domain.Deployments;
using Portal.Domain.Models;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

/// <summary>Endpoints, versions and plans in the states the endpoint tests start from.</summary>
public abstract class EndpointFixtures
{
    protected const int MaxInstances = 4;
    protected readonly FixedTime _time = new();

    protected static RolloutPlan Plan() => new("canary", [10, 100], 20, [new HealthGate(GateMetric.ErrorRate, 0.05), new HealthGate(GateMetric.P95LatencyMs, 2, GateMode.RelativeToPrimary)]);

    protected static RolloutObservation Healthy(int requests) => new(requests, [new GateReading(Plan().Gates[0], 0.0, 0.0), new GateReading(Plan().Gates[1], 5, 5)]);

    protected static TrafficAssignment Split(params (string Name, int Percent)[] shares) => new(shares.ToDictionary(s => s.Name, s => s.Percent));

    protected Endpoint New(string name = "credit-risk") => Endpoint.Create(name, null, Some.Ops, _time, new string('1', 64), new string('2', 64));

    protected Endpoint WithDeployments(params string[] names)
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
    protected Endpoint Serving()
    {
        var endpoint = WithDeployments("blue", "canary");
        endpoint.ReportHealth("blue", DeploymentState.Healthy, null, _time);
        endpoint.SetTraffic(Split(("blue", 100)), Some.Ops, _time);
        return endpoint;
    }

    protected static DeploymentSpec Spec(string name) => new(name, "credit-risk", 1);

    protected ModelVersion Version(ModelState state)
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
