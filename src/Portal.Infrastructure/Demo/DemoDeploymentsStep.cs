using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Monitoring;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// Production, as Ops set it up: the approved <c>credit-risk</c> version 1 deployed as <c>blue</c> to endpoint
/// <c>credit-risk</c> with all its traffic, through the same path a person takes (a real model server, health,
/// audit), and the alert rules an operator starts with: input drift, error rate, slow answers.
/// </summary>
public sealed partial class DemoDeploymentsStep(ILogger<DemoDeploymentsStep> logger) : IDemoSeedStep
{
    public const string Endpoint = "credit-risk";
    private static readonly Actor Ops = new("ops@demo.local", [Roles.Ops]);

    public string Name => "deployments";

    public int Order => 40;

    public bool BeforeStartup => false;

    public string Description => "The approved credit-risk model deployed to endpoint credit-risk, with alert rules";

    public async Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
    {
        var services = context.Services;
        var endpoints = services.GetRequiredService<EndpointService>();
        var registry = services.GetRequiredService<ModelRegistry>();
        var approved = (await registry.VersionsAsync(DemoModelsStep.Model, cancellationToken))
            .Where(v => v.State is ModelState.Approved or ModelState.Deployed).OrderBy(v => v.Version).FirstOrDefault();
        if (approved is null)
        {
            LogNothingApproved();
            return;
        }

        if (await endpoints.FindAsync(Endpoint, cancellationToken) is null)
        {
            await endpoints.ApplyAsync(Endpoint, new EndpointPlan("Scores consumer loan applications for the loan desk.",
                [new PlannedDeployment(new DeploymentSpec("blue", approved.ModelName, approved.Version, InstanceCount: 1, MaxConcurrentRequestsPerInstance: 4), 100)]),
                Ops, cancellationToken);
        }

        var alerts = services.GetRequiredService<AlertService>();
        if ((await alerts.RulesAsync(Endpoint, cancellationToken)).Count == 0)
        {
            await alerts.SaveRuleAsync(null, new AlertRuleSpec("Input drift", Endpoint, null, AlertMetric.Drift, AlertComparison.Above, 0.1, 15, AlertSeverity.Warning), Ops, cancellationToken);
            await alerts.SaveRuleAsync(null, new AlertRuleSpec("Errors", Endpoint, null, AlertMetric.ErrorRate, AlertComparison.Above, 0.05, 5, AlertSeverity.Critical), Ops, cancellationToken);
            await alerts.SaveRuleAsync(null, new AlertRuleSpec("Slow answers", Endpoint, null, AlertMetric.P95LatencyMs, AlertComparison.Above, 250, 5, AlertSeverity.Warning), Ops, cancellationToken);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo: no approved credit-risk version (the sample runs did not run here), so nothing is deployed")]
    private partial void LogNothingApproved();
}
