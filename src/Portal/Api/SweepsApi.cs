using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Portal.Domain.Common;
using Portal.Domain.Sweeps;
using Portal.Features.Navigation;
using Portal.Infrastructure.Jobs;
using Portal.Security;

namespace Portal.Api;

internal static class SweepsApi
{
    public static void MapSweepsApi(this RouteGroupBuilder api)
    {
        var sweeps = api.MapGroup("/sweeps").WithTags("Sweeps").RequireAuthorization(PortalAreas.Policies.Jobs);
        sweeps.MapPost("/", CreateAsync).WithSummary("Start a grid or random hyperparameter sweep: a parent run with one child run per trial");
        sweeps.MapGet("/{sweepId}", GetAsync).WithSummary("A sweep with its trials ranked by the objective and param importance");
        sweeps.MapPost("/{sweepId}/cancel", CancelAsync).WithSummary("Stop launching trials and cancel the running ones");
    }

    public sealed record SweepBody(string? Experiment, string? Command, string? CodePath, Dictionary<string, string>? Inputs, string? Name,
        string? Strategy, Dictionary<string, JsonElement>? Space, string? Objective, string? Direction, int? MaxTrials, int? MaxConcurrent, int? Seed, double? TimeoutMinutes);

    private static async Task<IResult> CreateAsync(SweepBody? body, SweepService sweeps, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        if (body is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send the sweep as JSON."] });
        }

        var strategy = (body.Strategy ?? "random").ToLowerInvariant() switch
        {
            "grid" => SweepStrategy.Grid,
            "random" => SweepStrategy.Random,
            _ => (SweepStrategy?)null,
        };
        if (strategy is null)
        {
            errors.Add("strategy", "strategy: grid or random.");
        }

        var direction = (body.Direction ?? "maximize").ToLowerInvariant() switch
        {
            "maximize" or "max" => ObjectiveDirection.Maximize,
            "minimize" or "min" => ObjectiveDirection.Minimize,
            _ => (ObjectiveDirection?)null,
        };
        if (direction is null)
        {
            errors.Add("direction", "direction: maximize or minimize.");
        }

        var space = ParseSpace(body.Space, errors);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), detail: errors.ToString());
        }

        try
        {
            var sweep = await sweeps.CreateAsync(new SweepRequest(
                new JobRequest(body.Experiment, body.Command, body.CodePath, body.Inputs, TimeoutMinutes: body.TimeoutMinutes),
                body.Name, strategy!.Value, space, body.Objective, direction!.Value, body.MaxTrials ?? 10, body.MaxConcurrent ?? 2, body.Seed ?? 1), user.ToActor(), cancellationToken);
            return TypedResults.Created($"/api/v1/sweeps/{sweep.Id}", new { sweepId = sweep.Id, parentRunId = sweep.ParentRunId, trials = sweep.Trials.Count, status = sweep.Status.ToString() });
        }
        catch (DomainException e) when (e is not NotPermittedException)
        {
            return ApiProblems.Invalid("sweep", e.Message);
        }
    }

    private static async Task<IResult> GetAsync(string sweepId, SweepService sweeps, CancellationToken cancellationToken)
    {
        if (await sweeps.FindAsync(sweepId, cancellationToken) is not { } sweep)
        {
            return TypedResults.Problem(statusCode: 404, title: "Not found", detail: $"There is no sweep {sweepId}.");
        }

        var trials = await sweeps.TrialsAsync(sweep, cancellationToken);
        return TypedResults.Ok(new
        {
            sweepId = sweep.Id,
            name = sweep.Name,
            status = sweep.Status.ToString(),
            strategy = sweep.Strategy.ToString(),
            objective = sweep.Objective,
            direction = sweep.Direction.ToString(),
            parentRunId = sweep.ParentRunId,
            trialsPlanned = sweep.Trials.Count,
            launched = sweep.Launched,
            maxConcurrent = sweep.MaxConcurrent,
            trials = trials.Select(t => new { runId = t.Run.Id, name = t.Run.Name, status = t.Run.Status.ToString(), objective = t.Objective, @params = t.Run.Params }),
            importance = SweepService.Importance(sweep, trials).Select(i => new { param = i.Param, importance = i.Importance, trials = i.Trials }),
        });
    }

    private static async Task<IResult> CancelAsync(string sweepId, SweepService sweeps, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var canceled = await sweeps.CancelAsync(sweepId, user.ToActor(), cancellationToken);
        return TypedResults.Ok(new { sweepId, message = canceled ? "The sweep is canceled; its running trials are being stopped." : "The sweep had already ended." });
    }

    /// <summary><c>{"max_depth": [2, 4, 6], "learning_rate": {"min": 0.01, "max": 0.3, "log": true}}</c></summary>
    internal static List<ParamSpace> ParseSpace(IReadOnlyDictionary<string, JsonElement>? space, FieldErrors errors)
    {
        var result = new List<ParamSpace>();
        foreach (var (name, value) in space ?? new Dictionary<string, JsonElement>())
        {
            switch (value.ValueKind)
            {
                case JsonValueKind.Array:
                    result.Add(new ParamSpace(name, [.. value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())]));
                    break;
                case JsonValueKind.Object:
                    double? Number(string field) => value.TryGetProperty(field, out var f) && f.ValueKind == JsonValueKind.Number ? f.GetDouble() : null;
                    bool Flag(string field) => value.TryGetProperty(field, out var f) && f.ValueKind == JsonValueKind.True;
                    result.Add(new ParamSpace(name, null, Number("min"), Number("max"), Flag("integer"), Flag("log")));
                    break;
                default:
                    errors.Add("space", $"space.{name}: a list of values, or {{\"min\", \"max\", \"log\"?, \"integer\"?}}.");
                    break;
            }
        }

        return result;
    }

    internal static string Describe(ParamSpace p) => p.Values is { Count: > 0 } values
        ? string.Join(", ", values)
        : $"{p.Min?.ToString(CultureInfo.InvariantCulture)} … {p.Max?.ToString(CultureInfo.InvariantCulture)}{(p.Log ? " (log)" : "")}{(p.Integer ? " (integer)" : "")}";
}
