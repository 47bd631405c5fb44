using System.Security.Claims;
using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Common;
using Portal.Domain.Deployments;
using Portal.Domain.Ports;
using Portal.Features.Navigation;
using Portal.Infrastructure.Deployments;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Serving;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// Endpoints, deployments, traffic, rollouts and keys (api.md "Deployments and scoring"). Everyone who may open
/// Deployments reads; Ops and administrators change (the service refuses others with 403). Percentages are
/// whole numbers as in Azure ML: 50.5 is refused naming the field, not rounded.
/// </summary>
internal static class EndpointsApi
{
    public static void MapEndpointsApi(this RouteGroupBuilder api)
    {
        var endpoints = api.MapGroup("/endpoints").WithTags("Deployments").RequireAuthorization(PortalAreas.Policies.Deployments);
        endpoints.MapGet("/", ListAsync).WithSummary("Endpoints with their deployments' health, traffic and live figures");
        endpoints.MapPut("/{name}", PutAsync).WithSummary("Create or update an endpoint: {description?, deployments:[{name, model, version, traffic, instanceCount?, requestTimeoutMs?, …}], mirror?:{deployment, percent}} → 202; keys are returned once when it is created");
        endpoints.MapGet("/{name}", GetAsync).WithSummary("An endpoint: deployments with state, traffic and metrics summary, mirror, rollout, history; etag for If-Match");
        endpoints.MapDelete("/{name}", DeleteAsync).WithSummary("Delete an endpoint that has no deployments left");
        endpoints.MapPost("/{name}/deployments", AddDeploymentAsync).WithSummary("Add a deployment of an approved version (no traffic yet): {name, model, version, instanceCount?, …}");
        endpoints.MapGet("/{name}/deployments/{deployment}", GetDeploymentAsync).WithSummary("A deployment with its instances (state, probes, restarts)");
        endpoints.MapPut("/{name}/deployments/{deployment}", UpdateDeploymentAsync).WithSummary("New settings for a deployment (instances, timeout, limits, probes); its instances are replaced");
        endpoints.MapDelete("/{name}/deployments/{deployment}", DeleteDeploymentAsync).WithSummary("Take a deployment down; refused (409) while it takes live or mirror traffic");
        endpoints.MapGet("/{name}/deployments/{deployment}/logs", LogsAsync).WithSummary("The newest output of an instance (?instance=0&bytes=65536)");
        endpoints.MapPut("/{name}/traffic", SetTrafficAsync).WithSummary("Set the split: {traffic:{deployment: percent}, mirror?:{deployment, percent}}; If-Match: <etag> refuses (409) a change based on an old read");
        endpoints.MapPost("/{name}/rollback", RollbackAsync).WithSummary("Back to the traffic assignment before the last change (stops a rollout in progress)");
        endpoints.MapPost("/{name}/rollouts", StartRolloutAsync).WithSummary("Start a gated canary: {canary, steps:[10,50,100], bakeSeconds, gates:[{metric: ErrorRate|P95LatencyMs|Drift, threshold, mode: Absolute|RelativeToPrimary}], minRequestsPerStep?, waitForHealthySeconds?}");
        endpoints.MapPost("/{name}/rollouts/stop", StopRolloutAsync).WithSummary("Stop the rollout in progress; traffic returns to what it was before it");
        endpoints.MapPost("/{name}/keys/{key}/regenerate", RegenerateKeyAsync).WithSummary("A new primary or secondary key, shown once");
        endpoints.MapGet("/{name}/metrics", MetricsAsync).WithSummary("Live figures per deployment over the last minutes (?minutes=15&stepSeconds=10)");
        endpoints.MapGet("/{name}/history", HistoryAsync).WithSummary("Per-minute figures kept in the database, beyond the live hour and across restarts (?hours=24&deployment=)");
        endpoints.MapGet("/{name}/drift", DriftAsync).WithSummary("Drift and data quality of each deployment's live inputs against its training data");
        endpoints.MapGet("/{name}/samples", SamplesAsync).WithSummary("Sampled requests and answers, sensitive columns redacted (?deployment=&take=50)");
    }

    public sealed record ProbeBody(int? InitialDelaySeconds, int? PeriodSeconds, int? TimeoutSeconds, int? FailureThreshold, int? SuccessThreshold)
    {
        public ProbeSettings ToSettings()
        {
            var d = ProbeSettings.AzureDefaults;
            return new(InitialDelaySeconds ?? d.InitialDelaySeconds, PeriodSeconds ?? d.PeriodSeconds, TimeoutSeconds ?? d.TimeoutSeconds,
                FailureThreshold ?? d.FailureThreshold, SuccessThreshold ?? d.SuccessThreshold);
        }
    }

    public sealed record DeploymentBody(string? Name, string? Model, int? Version, JsonElement? Traffic = null, int? InstanceCount = null, int? RequestTimeoutMs = null,
        int? MaxConcurrentRequestsPerInstance = null, int? MaxQueueWaitMs = null, ProbeBody? Liveness = null, ProbeBody? Readiness = null)
    {
        public DeploymentSpec ToSpec(DeploymentSpec? current = null) => new(
            Name ?? current?.Name ?? "", Model ?? current?.Model ?? "", Version ?? current?.Version ?? 0,
            InstanceCount ?? current?.InstanceCount ?? 1,
            RequestTimeoutMs ?? current?.RequestTimeoutMs ?? DeploymentSpec.DefaultRequestTimeoutMs,
            MaxConcurrentRequestsPerInstance ?? current?.MaxConcurrentRequestsPerInstance ?? 1,
            MaxQueueWaitMs ?? current?.MaxQueueWaitMs ?? 500,
            Liveness?.ToSettings() ?? current?.Liveness,
            Readiness?.ToSettings() ?? current?.Readiness);
    }

    public sealed record MirrorBody(string? Deployment, JsonElement? Percent);

    public sealed record EndpointBody(string? Description, List<DeploymentBody>? Deployments, MirrorBody? Mirror);

    public sealed record TrafficBody(Dictionary<string, JsonElement>? Traffic, MirrorBody? Mirror);

    public sealed record GateBody(string? Metric, double? Threshold, string? Mode);

    public sealed record RolloutBody(string? Canary, List<int>? Steps, int? BakeSeconds, List<GateBody>? Gates, int? MinRequestsPerStep, int? WaitForHealthySeconds);

    private static async Task<IResult> ListAsync(EndpointService service, ServingMonitor monitor, TimeProvider time, CancellationToken cancellationToken) =>
        TypedResults.Ok((await service.ListAsync(cancellationToken)).Select(e => DeploymentShapes.Endpoint(e, monitor, time, null)));

    private static async Task<IResult> GetAsync(string name, EndpointService service, ServingMonitor monitor, IWorkspaceBackend backend, TimeProvider time, HttpContext context, CancellationToken cancellationToken)
    {
        var endpoint = await service.GetAsync(name, cancellationToken);
        var instances = new Dictionary<string, IReadOnlyList<InstanceStatus>>(StringComparer.Ordinal);
        foreach (var deployment in endpoint.Deployments)
        {
            instances[deployment.Name] = await backend.InstancesAsync(name, deployment.Name, cancellationToken);
        }

        context.Response.Headers.ETag = $"\"{endpoint.ConcurrencyStamp}\"";
        return TypedResults.Ok(DeploymentShapes.Endpoint(endpoint, monitor, time, instances));
    }

    private static async Task<IResult> PutAsync(string name, EndpointBody? body, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ApiProblems.Invalid("deployments", "deployments: send {deployments:[{name, model, version, traffic}]}.");
        }

        var errors = new FieldErrors();
        var planned = new List<PlannedDeployment>();
        var list = body.Deployments ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            var traffic = Percent(list[i].Traffic, $"deployments[{i}].traffic", errors);
            planned.Add(new PlannedDeployment(list[i].ToSpec(), traffic));
        }

        var mirrorPercent = Percent(body.Mirror?.Percent, "mirror.percent", errors);
        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        var (endpoint, keys) = await service.ApplyAsync(name, new EndpointPlan(body.Description, planned, body.Mirror?.Deployment, mirrorPercent), user.ToActor(), cancellationToken);
        var shape = DeploymentShapes.Endpoint(endpoint, monitor, time, null);
        return TypedResults.Accepted($"/api/v1/endpoints/{name}", keys is null ? shape : shape with { Keys = new KeysShape(keys.Primary!, keys.Secondary!) });
    }

    private static async Task<IResult> DeleteAsync(string name, EndpointService service, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        await service.DeleteEndpointAsync(name, user.ToActor(), cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<IResult> AddDeploymentAsync(string name, DeploymentBody? body, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ApiProblems.Invalid("name", "name, model and version: send the deployment to add.");
        }

        var endpoint = await service.AddDeploymentAsync(name, body.ToSpec(), user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/endpoints/{name}/deployments/{body.Name}", DeploymentShapes.Endpoint(endpoint, monitor, time, null));
    }

    private static async Task<IResult> GetDeploymentAsync(string name, string deployment, EndpointService service, ServingMonitor monitor, IWorkspaceBackend backend, TimeProvider time, CancellationToken cancellationToken)
    {
        var endpoint = await service.GetAsync(name, cancellationToken);
        var found = endpoint.Get(deployment);
        return TypedResults.Ok(DeploymentShapes.Deployment(endpoint, found, monitor, time, await backend.InstancesAsync(name, deployment, cancellationToken)));
    }

    private static async Task<IResult> UpdateDeploymentAsync(string name, string deployment, DeploymentBody? body, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user,
        CancellationToken cancellationToken)
    {
        var current = (await service.GetAsync(name, cancellationToken)).Get(deployment).ToSpec();
        var spec = (body ?? new DeploymentBody(null, null, null)).ToSpec(current) with { Name = deployment };
        var endpoint = await service.UpdateDeploymentAsync(name, spec, user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/endpoints/{name}/deployments/{deployment}", DeploymentShapes.Endpoint(endpoint, monitor, time, null));
    }

    private static async Task<IResult> DeleteDeploymentAsync(string name, string deployment, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var endpoint = await service.DeleteDeploymentAsync(name, deployment, user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/endpoints/{name}", DeploymentShapes.Endpoint(endpoint, monitor, time, null));
    }

    private static async Task<IResult> LogsAsync(string name, string deployment, int? instance, int? bytes, EndpointService service, IWorkspaceBackend backend, CancellationToken cancellationToken)
    {
        (await service.GetAsync(name, cancellationToken)).Get(deployment);
        var text = await backend.ReadInstanceLogAsync(name, deployment, Math.Max(0, instance ?? 0), Math.Clamp(bytes ?? 65_536, 1, 1024 * 1024), cancellationToken);
        return TypedResults.Text(text, "text/plain; charset=utf-8");
    }

    private static async Task<IResult> SetTrafficAsync(string name, TrafficBody? body, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user,
        HttpContext context, CancellationToken cancellationToken)
    {
        if (body?.Traffic is null)
        {
            return ApiProblems.Invalid("traffic", "traffic: send {traffic: {deployment: percent, …}} with whole percentages adding up to 100.");
        }

        var errors = new FieldErrors();
        var traffic = body.Traffic.ToDictionary(t => t.Key, t => Percent(t.Value, $"traffic.{t.Key}", errors), StringComparer.Ordinal);
        var mirrorPercent = Percent(body.Mirror?.Percent, "mirror.percent", errors);
        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        Guid? expected = null;
        var ifMatch = context.Request.Headers.IfMatch.ToString().Trim().Trim('"');
        if (ifMatch.Length > 0)
        {
            expected = Guid.TryParse(ifMatch, out var stamp) ? stamp : throw new InvalidInputException("If-Match", "If-Match: send the etag of GET /api/v1/endpoints/{name} as it came.");
        }

        var endpoint = await service.SetTrafficAsync(name, new TrafficAssignment(traffic, body.Mirror?.Deployment, mirrorPercent), expected, user.ToActor(), cancellationToken);
        context.Response.Headers.ETag = $"\"{endpoint.ConcurrencyStamp}\"";
        return TypedResults.Ok(DeploymentShapes.Endpoint(endpoint, monitor, time, null));
    }

    private static async Task<IResult> RollbackAsync(string name, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(DeploymentShapes.Endpoint(await service.RollbackAsync(name, user.ToActor(), cancellationToken), monitor, time, null));

    private static async Task<IResult> StartRolloutAsync(string name, RolloutBody? body, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ApiProblems.Invalid("canary", "canary, steps, bakeSeconds and gates: send the canary plan.");
        }

        var errors = new FieldErrors();
        var gates = new List<HealthGate>();
        var given = body.Gates ?? [];
        for (var i = 0; i < given.Count; i++)
        {
            if (!Enum.TryParse<GateMetric>(given[i].Metric, ignoreCase: true, out var metric) || !Enum.IsDefined(metric))
            {
                errors.Add($"gates[{i}].metric", $"gates[{i}].metric: '{Names.Visible(given[i].Metric)}' is not a gate; use ErrorRate, P95LatencyMs or Drift.");
                continue;
            }

            var mode = GateMode.Absolute;
            if (given[i].Mode is { } text && (!Enum.TryParse(text, ignoreCase: true, out mode) || !Enum.IsDefined(mode)))
            {
                errors.Add($"gates[{i}].mode", $"gates[{i}].mode: '{Names.Visible(text)}' is not a mode; use Absolute or RelativeToPrimary.");
                continue;
            }

            if (given[i].Threshold is not { } threshold)
            {
                errors.Add($"gates[{i}].threshold", $"gates[{i}].threshold: give the gate's threshold.");
                continue;
            }

            gates.Add(new HealthGate(metric, threshold, mode));
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        var plan = new RolloutPlan(body.Canary ?? "", body.Steps ?? [], body.BakeSeconds ?? 0, gates, body.MinRequestsPerStep ?? 20, body.WaitForHealthySeconds ?? 600);
        var endpoint = await service.StartRolloutAsync(name, plan, user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/endpoints/{name}", DeploymentShapes.Endpoint(endpoint, monitor, time, null));
    }

    private static async Task<IResult> StopRolloutAsync(string name, EndpointService service, ServingMonitor monitor, TimeProvider time, ClaimsPrincipal user, CancellationToken cancellationToken) =>
        TypedResults.Ok(DeploymentShapes.Endpoint(await service.StopRolloutAsync(name, user.ToActor(), cancellationToken), monitor, time, null));

    private static async Task<IResult> RegenerateKeyAsync(string name, string key, EndpointService service, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!Enum.TryParse<EndpointKey>(key, ignoreCase: true, out var which) || !Enum.IsDefined(which))
        {
            return ApiProblems.Invalid("key", "key: primary or secondary.");
        }

        var value = await service.RegenerateKeyAsync(name, which, user.ToActor(), cancellationToken);
        return TypedResults.Ok(new { endpoint = name, key = which.ToString().ToLowerInvariant(), value });
    }

    private static async Task<IResult> MetricsAsync(string name, int? minutes, int? stepSeconds, EndpointService service, ServingMonitor monitor, TimeProvider time, CancellationToken cancellationToken)
    {
        var endpoint = await service.GetAsync(name, cancellationToken);
        var now = time.GetUtcNow().UtcDateTime;
        var span = TimeSpan.FromMinutes(Math.Clamp(minutes ?? 15, 1, 60));
        var step = TimeSpan.FromSeconds(Math.Clamp(stepSeconds ?? 10, DeploymentStats.BucketSeconds, 600));
        return TypedResults.Ok(new
        {
            endpoint = name,
            from = now - span,
            to = now,
            stepSeconds = step.TotalSeconds,
            deployments = endpoint.Deployments.Select(d => new
            {
                name = d.Name,
                configuredTraffic = endpoint.Assignment.PercentOf(d.Name),
                points = (monitor.Find(name, d.Name)?.Series(now - span, now, step) ?? []).Select(p => DeploymentShapes.Point(p.At, p.Stats)),
            }),
        });
    }

    private static async Task<IResult> HistoryAsync(string name, int? hours, string? deployment, EndpointService service, TimeProvider time,
        Microsoft.EntityFrameworkCore.IDbContextFactory<PortalDbContext> dbFactory, CancellationToken cancellationToken)
    {
        await service.GetAsync(name, cancellationToken);
        var from = time.GetUtcNow().UtcDateTime.AddHours(-Math.Clamp(hours ?? 24, 1, 24 * 31));
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var minutes = db.ServingMinutes.AsNoTracking().Where(m => m.Endpoint == name && m.Minute >= from);
        if (!string.IsNullOrEmpty(deployment))
        {
            minutes = minutes.Where(m => m.Deployment == deployment);
        }

        var rows = await minutes.OrderBy(m => m.Minute).Take(50_000).ToListAsync(cancellationToken);
        return TypedResults.Ok(rows.Select(m => new
        {
            deployment = m.Deployment,
            minute = m.Minute,
            requests = m.Requests,
            errors = m.Errors,
            byStatus = m.ByStatus,
            p50Ms = LatencyHistogram.Quantile(m.TotalLatency, 0.5),
            p95Ms = LatencyHistogram.Quantile(m.TotalLatency, 0.95),
            p99Ms = LatencyHistogram.Quantile(m.TotalLatency, 0.99),
            modelP95Ms = LatencyHistogram.Quantile(m.ModelLatency, 0.95),
            gatewayP95Ms = LatencyHistogram.Quantile(m.GatewayLatency, 0.95),
            mirrored = m.Mirrored,
            mirrorDisagreed = m.MirrorDisagreed,
        }));
    }

    private static async Task<IResult> DriftAsync(string name, EndpointService service, ServingMonitor monitor, CancellationToken cancellationToken)
    {
        var endpoint = await service.GetAsync(name, cancellationToken);
        return TypedResults.Ok(new
        {
            endpoint = name,
            deployments = endpoint.Deployments.Select(d => new { name = d.Name, drift = monitor.Find(name, d.Name)?.LatestDrift }),
        });
    }

    private static async Task<IResult> SamplesAsync(string name, string? deployment, int? take, EndpointService service, Microsoft.EntityFrameworkCore.IDbContextFactory<PortalDbContext> dbFactory,
        CancellationToken cancellationToken)
    {
        await service.GetAsync(name, cancellationToken);
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        var samples = db.ScoringSamples.AsNoTracking().Where(s => s.Endpoint == name);
        if (!string.IsNullOrEmpty(deployment))
        {
            samples = samples.Where(s => s.Deployment == deployment);
        }

        var page = await samples.OrderByDescending(s => s.Id).Take(Math.Clamp(take ?? 50, 1, 500)).ToListAsync(cancellationToken);
        return TypedResults.Ok(page.Select(s => new
        {
            s.Deployment,
            s.At,
            s.Status,
            s.LatencyMs,
            s.Rows,
            inputs = JsonSerializer.Deserialize<JsonElement>(s.Inputs),
            outputs = JsonSerializer.Deserialize<JsonElement>(s.Outputs),
            s.IsSampleTraffic,
        }));
    }

    /// <summary>A whole percentage from JSON (0 when absent); anything else is an error naming the field.</summary>
    private static int Percent(JsonElement? value, string field, FieldErrors errors)
    {
        if (value is not { } element || element.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return 0;
        }

        if (element.ValueKind != JsonValueKind.Number)
        {
            errors.Add(field, $"{field}: {element.GetRawText()} is not a number; give a whole percentage from 0 to 100.");
            return 0;
        }

        if (!element.TryGetDecimal(out var number) || number != decimal.Truncate(number) || number < int.MinValue || number > int.MaxValue)
        {
            errors.Add(field, $"{field}: {element.GetRawText()} is not a whole percentage; shares are whole numbers from 0 to 100 (as in Azure ML).");
            return 0;
        }

        return (int)number;
    }
}
