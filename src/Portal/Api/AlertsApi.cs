using System.Security.Claims;
using Portal.Domain.Monitoring;
using Portal.Features.Navigation;
using Portal.Infrastructure.Monitoring;
using Portal.Security;

namespace Portal.Api;

/// <summary>Alerts and alert rules: read by everyone who may open Deployments; rules and acknowledgements by Ops and administrators; Retrain by data scientists and administrators.</summary>
internal static class AlertsApi
{
    public static void MapAlertsApi(this RouteGroupBuilder api)
    {
        var alerts = api.MapGroup("/alerts").WithTags("Alerts").RequireAuthorization(PortalAreas.Policies.Deployments);
        alerts.MapGet("/", ListAsync).WithSummary("Alerts, newest first (?state=open|all&endpoint=&skip=&take=)");
        alerts.MapGet("/{id:guid}", GetAsync).WithSummary("One alert");
        alerts.MapPost("/{id:guid}/acknowledge", AcknowledgeAsync).WithSummary("Say you are on it (Ops, Admin); an event alert (a rollback) resolves when acknowledged");
        alerts.MapPost("/{id:guid}/retrain", RetrainAsync).WithSummary("From a drift alert: run the model's training job again on the newest version of its training data → {runId}");

        var rules = api.MapGroup("/alert-rules").WithTags("Alerts").RequireAuthorization(PortalAreas.Policies.Deployments);
        rules.MapGet("/", RulesAsync).WithSummary("Alert rules (?endpoint=)");
        rules.MapPost("/", CreateRuleAsync).WithSummary("A new rule: {name, endpoint, deployment?, metric, comparison: Above|Below, threshold, windowMinutes, severity: Info|Warning|Critical}");
        rules.MapPut("/{id:guid}", UpdateRuleAsync).WithSummary("Change a rule (same fields, plus enabled)");
        rules.MapDelete("/{id:guid}", DeleteRuleAsync).WithSummary("Delete a rule");
    }

    public sealed record RuleBody(string? Name, string? Endpoint, string? Deployment, string? Metric, string? Comparison, double? Threshold, int? WindowMinutes, string? Severity, bool? Enabled);

    private static async Task<IResult> ListAsync(string? state, string? endpoint, int? skip, int? take, AlertService alerts, HttpContext context, CancellationToken cancellationToken)
    {
        var (page, total) = await alerts.ListAsync(new AlertQuery(!string.Equals(state, "all", StringComparison.OrdinalIgnoreCase), endpoint, skip ?? 0, take ?? 50), cancellationToken);
        context.Response.Headers["X-Total-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Ok(page);
    }

    private static async Task<IResult> GetAsync(Guid id, AlertService alerts, CancellationToken cancellationToken) => TypedResults.Ok(await alerts.GetAsync(id, cancellationToken));

    private static async Task<IResult> AcknowledgeAsync(Guid id, AlertService alerts, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await alerts.AcknowledgeAsync(id, user.ToActor(), cancellationToken));

    private static async Task<IResult> RetrainAsync(Guid id, AlertService alerts, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var runId = await alerts.RetrainAsync(id, user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/runs/{runId}", new { alertId = id, runId });
    }

    private static async Task<IResult> RulesAsync(string? endpoint, AlertService alerts, CancellationToken cancellationToken) =>
        TypedResults.Ok(await alerts.RulesAsync(endpoint, cancellationToken));

    private static async Task<IResult> CreateRuleAsync(RuleBody? body, AlertService alerts, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var rule = await alerts.SaveRuleAsync(null, Spec(body), user.ToActor(), cancellationToken);
        return TypedResults.Created($"/api/v1/alert-rules/{rule.Id}", rule);
    }

    private static async Task<IResult> UpdateRuleAsync(Guid id, RuleBody? body, AlertService alerts, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await alerts.SaveRuleAsync(id, Spec(body), user.ToActor(), cancellationToken));

    private static async Task<IResult> DeleteRuleAsync(Guid id, AlertService alerts, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await alerts.DeleteRuleAsync(id, user.ToActor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static AlertRuleSpec Spec(RuleBody? body)
    {
        var errors = new Domain.Common.FieldErrors();
        var metric = Parse<AlertMetric>(body?.Metric, "metric", errors);
        var comparison = body?.Comparison is null ? AlertComparison.Above : Parse<AlertComparison>(body.Comparison, "comparison", errors);
        var severity = body?.Severity is null ? AlertSeverity.Warning : Parse<AlertSeverity>(body.Severity, "severity", errors);
        if (body?.Threshold is null)
        {
            errors.Add("threshold", "threshold: give the value that fires the rule.");
        }

        if (!errors.IsEmpty)
        {
            throw new Domain.Common.InvalidInputException(errors);
        }

        return new AlertRuleSpec(body!.Name ?? "", body.Endpoint ?? "", string.IsNullOrWhiteSpace(body.Deployment) ? null : body.Deployment, metric, comparison,
            body.Threshold!.Value, body.WindowMinutes ?? 5, severity, body.Enabled ?? true);
    }

    private static T Parse<T>(string? text, string field, Domain.Common.FieldErrors errors)
        where T : struct, Enum
    {
        if (Enum.TryParse<T>(text, ignoreCase: true, out var value) && Enum.IsDefined(value) && !int.TryParse(text, out _))
        {
            return value;
        }

        errors.Add(field, $"{field}: '{Domain.Common.Names.Visible(text)}'; use one of {string.Join(", ", Enum.GetNames<T>())}.");
        return default;
    }
}
