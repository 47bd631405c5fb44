using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Serialization;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Features.Navigation;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Models;
using Portal.Infrastructure.Persistence;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// MLflow's tracking REST API (<c>/api/2.0/mlflow/…</c>), so scripts and the MLflow client log here
/// unchanged: same request and response JSON, limits and error codes as MLflow's REST reference.
/// </summary>
internal static partial class MlflowApi
{
    public const int DefaultMaxResults = 1000;
    public const int MaxHistoryResults = 25_000;

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    public static WebApplication MapMlflowApi(this WebApplication app)
    {
        var mlflow = app.MapGroup("/api/2.0/mlflow").WithTags("MLflow tracking")
            .RequireAuthorization(PortalAreas.Policies.Experiments).AddEndpointFilter(MlflowErrors.TranslateTrackingAsync).DisableAntiforgery();
        mlflow.MapPost("/experiments/create", CreateExperimentAsync);
        mlflow.MapGet("/experiments/get", GetExperimentAsync);
        mlflow.MapGet("/experiments/get-by-name", GetExperimentByNameAsync);
        mlflow.MapMethods("/experiments/search", ["GET", "POST"], SearchExperimentsAsync);
        mlflow.MapPost("/runs/create", CreateRunAsync);
        mlflow.MapGet("/runs/get", GetRunAsync);
        mlflow.MapPost("/runs/update", UpdateRunAsync);
        mlflow.MapPost("/runs/search", SearchRunsAsync);
        mlflow.MapPost("/runs/log-batch", LogBatchAsync);
        mlflow.MapPost("/runs/log-metric", LogMetricAsync);
        mlflow.MapPost("/runs/log-parameter", LogParameterAsync);
        mlflow.MapPost("/runs/set-tag", SetTagAsync);
        mlflow.MapPost("/runs/delete-tag", DeleteTagAsync);
        mlflow.MapGet("/metrics/get-history", GetHistoryAsync);
        mlflow.MapPost("/runs/log-inputs", LogInputsAsync);
        mlflow.MapPost("/runs/log-model", LogModelAsync);
        mlflow.MapGet("/artifacts/list", ListRunArtifactsAsync);

        // MLflow's artifact proxy (mlflow-artifacts:/ URIs): runs upload and read files through the portal.
        var artifacts = app.MapGroup("/api/2.0/mlflow-artifacts/artifacts").WithTags("MLflow tracking")
            .RequireAuthorization(PortalAreas.Policies.Experiments).AddEndpointFilter(MlflowErrors.TranslateTrackingAsync).DisableAntiforgery();
        artifacts.MapPut("/{experimentId}/{runId}/artifacts/{**path}", UploadArtifactAsync);
        // A registered version's bound files (what get-download-uri and models:/ URIs point at).
        artifacts.MapGet("/registry/{name}/{version}/{**path}", DownloadVersionFileAsync);
        artifacts.MapGet("/{experimentId}/{runId}/artifacts/{**path}", DownloadArtifactAsync);
        artifacts.MapGet("/", ListArtifactsAsync);
        return app;
    }

    private static async Task<IResult> CreateExperimentAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var tags = body.KeyValues("tags").ToDictionary(t => t.Key ?? "", t => t.Value ?? "", StringComparer.Ordinal);
        var experiment = await store.CreateExperimentAsync(body.Required("name"), tags, user.ToActor(), cancellationToken);
        return Ok(new { experiment_id = Id(experiment) });
    }

    private static async Task<IResult> GetExperimentAsync(HttpRequest request, TrackingStore store, CancellationToken cancellationToken)
    {
        var experiment = await store.GetExperimentAsync(MlflowJson.FromQuery(request.Query).Required("experiment_id"), cancellationToken);
        return Ok(new { experiment = MlflowShapes.Experiment(experiment) });
    }

    private static async Task<IResult> GetExperimentByNameAsync(HttpRequest request, TrackingStore store, CancellationToken cancellationToken)
    {
        var experiment = await store.GetExperimentByNameAsync(MlflowJson.FromQuery(request.Query).Required("experiment_name"), cancellationToken);
        return Ok(new { experiment = MlflowShapes.Experiment(experiment) });
    }

    private static async Task<IResult> SearchExperimentsAsync(HttpRequest request, TrackingStore store, CancellationToken cancellationToken)
    {
        var body = HttpMethods.IsGet(request.Method) ? MlflowJson.FromQuery(request.Query) : await MlflowJson.ReadAsync(request, cancellationToken);
        var take = body.Int32("max_results") ?? DefaultMaxResults;
        if (take is < 1 or > 50_000)
        {
            throw TrackingException.Invalid($"Invalid value {take} for parameter 'max_results' supplied. It must be between 1 and 50000.");
        }

        var skip = PageToken.Decode(body.String("page_token"));
        var viewType = body.String("view_type") ?? "ACTIVE_ONLY";
        var page = await store.SearchExperimentsAsync(NameFilter(body.String("filter")), skip, take, viewType is "ALL" or "DELETED_ONLY", cancellationToken);
        return Ok(new
        {
            experiments = page.Items.Select(e => MlflowShapes.Experiment(e.Experiment)),
            next_page_token = skip + take < page.Total ? PageToken.Encode(skip + take) : null,
        });
    }

    private static async Task<IResult> CreateRunAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var tags = body.KeyValues("tags");
        if (tags.Count > TrackingRules.MaxParamsOrTagsPerBatch)
        {
            throw TrackingException.Invalid($"A run can be created with at most {TrackingRules.MaxParamsOrTagsPerBatch} tags. Got {tags.Count}.");
        }

        DateTime? start = body.Int64("start_time") is { } ms ? FromMillis(ms) : null;
        var run = await store.CreateRunAsync(body.Required("experiment_id"), body.String("run_name"), start,
            tags.ToDictionary(t => t.Key ?? "", t => t.Value ?? "", StringComparer.Ordinal), user.ToActor(), cancellationToken);
        return Ok(new { run = MlflowShapes.Run(run) });
    }

    private static async Task<IResult> GetRunAsync(HttpRequest request, TrackingStore store, CancellationToken cancellationToken)
    {
        var query = MlflowJson.FromQuery(request.Query);
        var run = await store.GetRunAsync(query.String("run_id") ?? query.Required("run_uuid"), cancellationToken);
        return Ok(new { run = MlflowShapes.Run(run) });
    }

    private static async Task<IResult> UpdateRunAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        RunStatus? status = null;
        if (body.String("status") is { } text)
        {
            status = RunStatuses.TryParse(text, out var parsed)
                ? parsed
                : throw TrackingException.Invalid($"Invalid value {text} for parameter 'status' supplied: use RUNNING, SCHEDULED, FINISHED, FAILED or KILLED.");
        }

        DateTime? end = body.Int64("end_time") is { } ms ? FromMillis(ms) : null;
        var run = await store.UpdateRunAsync(body.String("run_id") ?? body.Required("run_uuid"), status, end, body.String("run_name"), user.ToActor(), cancellationToken);
        return Ok(new { run_info = MlflowShapes.RunInfo(run) });
    }

    private static async Task<IResult> SearchRunsAsync(HttpRequest request, RunSearch search, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var experiments = body.Strings("experiment_ids").Select(TrackingStore.ParseExperimentId).ToList();
        if (experiments.Count == 0)
        {
            throw TrackingException.Invalid("Missing value for required parameter 'experiment_ids'.");
        }

        var orderBy = body.Strings("order_by");
        var take = body.Int32("max_results") ?? DefaultMaxResults;
        if (take is < 1 or > 50_000)
        {
            throw TrackingException.Invalid($"Invalid value {take} for parameter 'max_results' supplied. It must be at most 50000.");
        }
        var skip = PageToken.Decode(body.String("page_token"));
        var page = await search.SearchAsync(new RunQuery(experiments, body.String("filter"), orderBy.FirstOrDefault(), skip, take), cancellationToken);
        return Ok(new
        {
            runs = page.Items.Select(MlflowShapes.Run),
            next_page_token = page.Items.Count == take ? PageToken.Encode(skip + take) : null,
        });
    }

    private static async Task<IResult> LogBatchAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var metrics = body.Objects("metrics");
        var parameters = body.KeyValues("params");
        var tags = body.KeyValues("tags");
        TrackingStore.CheckBatchLimits(metrics.Count, parameters.Count, tags.Count);
        var points = metrics.Select(m => m.Metric()).ToList();
        await store.LogBatchAsync(body.String("run_id") ?? body.Required("run_uuid"), points, parameters, tags, user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> LogMetricAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        await store.LogBatchAsync(body.String("run_id") ?? body.Required("run_uuid"), [body.Metric()], [], [], user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> LogParameterAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        await store.LogBatchAsync(body.String("run_id") ?? body.Required("run_uuid"), [], [new(body.String("key"), body.String("value"))], [], user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> SetTagAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        await store.LogBatchAsync(body.String("run_id") ?? body.Required("run_uuid"), [], [], [new(body.String("key"), body.String("value"))], user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> DeleteTagAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        await store.DeleteTagAsync(body.Required("run_id"), body.String("key"), user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    /// <summary>
    /// MLflow's get-history: without max_results the whole history in one answer (MLflow's semantics; its
    /// client relies on it), with max_results pages of at most that many points.
    /// </summary>
    private static async Task<IResult> GetHistoryAsync(HttpRequest request, TrackingStore store, CancellationToken cancellationToken)
    {
        var query = MlflowJson.FromQuery(request.Query);
        var take = query.Int32("max_results");
        if (take is < 1 or > MaxHistoryResults)
        {
            throw TrackingException.Invalid($"Invalid value {take} for parameter 'max_results' supplied. It must be between 1 and {MaxHistoryResults}.");
        }

        var (points, next) = await store.GetMetricHistoryAsync(query.String("run_id") ?? query.Required("run_uuid"), query.String("metric_key"), take, query.String("page_token"), cancellationToken);
        return Ok(new { metrics = points.Select(MlflowShapes.Metric), next_page_token = next });
    }

    /// <summary>
    /// MLflow's log-inputs (<c>mlflow.log_input</c>). A dataset that names a portal dataset version — its
    /// source is the version's portal URL or <c>dataset:name:version</c> — becomes the run's recorded
    /// training input (lineage and the model's data-validation check); other datasets are accepted and ignored.
    /// </summary>
    private static async Task<IResult> LogInputsAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var runId = body.Required("run_id");
        var refs = new List<string>();
        foreach (var input in body.Objects("datasets"))
        {
            if (input.Root.TryGetProperty("dataset", out var dataset) && dataset.ValueKind == JsonValueKind.Object)
            {
                var text = string.Join(" ", new[] { "source", "name", "digest" }.Select(k => dataset.TryGetProperty(k, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null));
                if (PortalDatasetPattern().Match(text) is { Success: true } match)
                {
                    refs.Add($"dataset:{match.Groups["name"].Value}:{match.Groups["version"].Value}");
                }
            }
        }

        if (refs.Count > 0)
        {
            await store.AddInputsAsync(runId, refs.Distinct(StringComparer.Ordinal), user.ToActor(), cancellationToken);
        }
        else
        {
            _ = await store.GetRunAsync(runId, cancellationToken);
        }

        return Ok(new { });
    }

    /// <summary>
    /// MLflow's log-model (sent by every <c>log_model</c>): the model's MLmodel as JSON, appended to the run's
    /// <c>mlflow.log-model.history</c> tag as MLflow's server keeps it (the UI lists logged models from it).
    /// </summary>
    private static async Task<IResult> LogModelAsync(HttpRequest request, TrackingStore store, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await MlflowJson.ReadAsync(request, cancellationToken);
        var runId = body.Required("run_id");
        using var model = ParseModelJson(body.Required("model_json"));
        var run = await store.GetRunAsync(runId, cancellationToken);
        var history = new System.Text.Json.Nodes.JsonArray();
        if (run.Tags.TryGetValue(LoggedModelsTag, out var previous) && System.Text.Json.Nodes.JsonNode.Parse(previous) is System.Text.Json.Nodes.JsonArray earlier)
        {
            history = earlier;
        }

        history.Add(System.Text.Json.Nodes.JsonNode.Parse(model.RootElement.GetRawText()));
        await store.LogBatchAsync(runId, [], [], [new(LoggedModelsTag, history.ToJsonString())], user.ToActor(), cancellationToken);
        return Ok(new { });
    }

    private const string LoggedModelsTag = "mlflow.log-model.history";

    private static JsonDocument ParseModelJson(string text)
    {
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException e)
        {
            throw TrackingException.Invalid($"Invalid value for parameter 'model_json': not JSON ({e.Message}).");
        }
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?:/api/v1/datasets/|dataset:)(?<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:/versions/|:)(?<version>\d+)")]
    private static partial System.Text.RegularExpressions.Regex PortalDatasetPattern();

    /// <summary>MLflow's experiment filter: <c>name = 'x'</c> or <c>name LIKE '%x%'</c>; we search by the text inside.</summary>
    private static string? NameFilter(string? filter)
    {
        if (string.IsNullOrWhiteSpace(filter))
        {
            return null;
        }

        var match = NameFilterPattern().Match(filter);
        return match.Success
            ? match.Groups[3].Value.Trim('%')
            : throw TrackingException.Invalid($"Invalid filter '{filter}': experiments can be filtered by name = '…' or name LIKE '%…%'.");
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^\s*(attributes\.)?name\s+(=|I?LIKE)\s+'([^']*)'\s*\z", System.Text.RegularExpressions.RegexOptions.IgnoreCase)]
    private static partial System.Text.RegularExpressions.Regex NameFilterPattern();

    internal static IResult Ok(object value) => Results.Json(value, Json);

    private static string Id(Experiment experiment) => experiment.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static DateTime FromMillis(long ms) =>
        ms is < 0 or > 253_402_300_799_999 ? throw TrackingException.Invalid($"Invalid value {ms} for a time in milliseconds since the epoch.") : DateTime.UnixEpoch.AddMilliseconds(ms);
}
