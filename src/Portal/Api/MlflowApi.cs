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

    [System.Text.RegularExpressions.GeneratedRegex(@"(?:/api/v1/datasets/|dataset:)(?<name>[A-Za-z0-9][A-Za-z0-9._-]*)(?:/versions/|:)(?<version>\d+)")]
    private static partial System.Text.RegularExpressions.Regex PortalDatasetPattern();

    /// <summary>MLflow's run-based list: paths relative to the run's artifact root, folders with is_dir.</summary>
    private static async Task<IResult> ListRunArtifactsAsync(HttpRequest request, TrackingStore store, RunArtifacts artifacts, CancellationToken cancellationToken)
    {
        var query = MlflowJson.FromQuery(request.Query);
        var run = await store.GetRunAsync(query.String("run_id") ?? query.Required("run_uuid"), cancellationToken);
        var folder = (query.String("path") ?? "").Trim('/');
        if (folder.Length > 0 && RunArtifacts.PathProblem(folder) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        var files = await artifacts.ListAsync(run.Id, folder, cancellationToken);
        return Ok(new
        {
            root_uri = $"mlflow-artifacts:/{run.ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture)}/{run.Id}/artifacts",
            files = Entries(files.Select(f => (f.Path, f.Size)), folder, relativeToFolder: false),
        });
    }

    /// <summary>
    /// The entries directly under <paramref name="folder"/>: files with sizes, sub-folders with is_dir. The
    /// artifact proxy names them relative to the folder listed (as MLflow's server does), the run-based list
    /// relative to the run.
    /// </summary>
    private static IEnumerable<object> Entries(IEnumerable<(string Path, long Size)> files, string folder, bool relativeToFolder)
    {
        var prefix = folder.Length == 0 ? "" : folder + "/";
        var named = files.Where(f => f.Path.StartsWith(prefix, StringComparison.Ordinal) && f.Path.Length > prefix.Length).ToList();
        return named
            .Select(f => (Split: f.Path[prefix.Length..].Split('/', 2), f.Size))
            .GroupBy(e => e.Split[0], StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => (relativeToFolder ? g.Key : prefix + g.Key, Dir: g.Any(e => e.Split.Length == 2), g.First().Size))
            .Select(e => e.Dir ? (object)new { path = e.Item1, is_dir = true } : new { path = e.Item1, is_dir = false, file_size = e.Size });
    }

    private static async Task<IResult> UploadArtifactAsync(string experimentId, string runId, string path, HttpRequest request,
        TrackingStore store, RunArtifacts artifacts, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (!TrackingStore.CanWrite(user.ToActor()))
        {
            throw new NotPermittedException("Only data scientists and administrators can upload run artifacts.");
        }

        var run = await store.GetRunAsync(runId, cancellationToken);
        if (run.ExperimentId != TrackingStore.ParseExperimentId(experimentId))
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run {runId} is not in experiment {experimentId}.");
        }

        await artifacts.PutAsync(runId, RunArtifacts.Decode(path), request.Body, cancellationToken);
        return Ok(new { });
    }

    private static async Task<IResult> DownloadArtifactAsync(string experimentId, string runId, string path, RunArtifacts artifacts, TrackingStore store,
        Portal.Infrastructure.Datasets.DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        path = RunArtifacts.Decode(path);
        if (RunArtifacts.PathProblem(path) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        if (await store.FindRunAsync(runId, cancellationToken) is { } run
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"run:{runId}", run.Inputs, cancellationToken) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        return await artifacts.OpenAsync(runId, path, cancellationToken) is { } found
            ? Results.Stream(found.Content, "application/octet-stream", System.IO.Path.GetFileName(found.Artifact.Path))
            : throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Run {runId} has no artifact '{path}'.");
    }

    /// <summary>
    /// MLflow's artifact-proxy list of <c>path</c> = <c>{experiment}/{run}/artifacts[/folder]</c> or a registered
    /// version's <c>registry/{name}/{version}[/folder]</c>: what is directly inside, named relative to it.
    /// </summary>
    private static async Task<IResult> ListArtifactsAsync(string? path, RunArtifacts artifacts, ModelRegistry registry, CancellationToken cancellationToken)
    {
        var parts = (path ?? "").Trim('/').Split('/', 4);
        if (parts is ["registry", var model, var number, ..] && int.TryParse(number, System.Globalization.CultureInfo.InvariantCulture, out var version))
        {
            var inside = parts.Length == 4 ? parts[3].Trim('/') : "";
            var bound = await registry.FindVersionAsync(model, version, cancellationToken) is { } found ? await registry.BoundFilesAsync(found, cancellationToken) : [];
            return Ok(new { files = Entries(bound.Select(f => (f.Path, f.Size)), inside, relativeToFolder: true) });
        }

        if (parts.Length < 3 || parts[2] != "artifacts")
        {
            throw TrackingException.Invalid("Invalid value for parameter 'path': use {experiment_id}/{run_id}/artifacts[/folder].");
        }

        var folder = parts.Length == 4 ? parts[3].Trim('/') : "";
        if (folder.Length > 0 && RunArtifacts.PathProblem(folder) is { } problem)
        {
            throw TrackingException.Invalid(problem);
        }

        var files = await artifacts.ListAsync(parts[1], folder, cancellationToken);
        return Ok(new { files = Entries(files.Select(f => (f.Path, f.Size)), folder, relativeToFolder: true) });
    }

    /// <summary>One file of a registered version as bound at registration, whatever the run's files are now.</summary>
    private static async Task<IResult> DownloadVersionFileAsync(string name, string version, string path, ModelRegistry registry, TrackingStore store,
        Portal.Infrastructure.Datasets.DatasetCatalog catalog, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        path = RunArtifacts.Decode(path);
        if (!int.TryParse(version, System.Globalization.CultureInfo.InvariantCulture, out var number) || await registry.FindVersionAsync(name, number, cancellationToken) is not { } found)
        {
            throw new TrackingException(TrackingError.ResourceDoesNotExist, $"Model Version (name={name}, version={version}) not found");
        }

        if (await store.FindRunAsync(found.SourceRunId, cancellationToken) is { } run
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"model:{name}:{number}", run.Inputs, cancellationToken) is { } refusal)
        {
            throw new NotPermittedException(refusal);
        }

        return await registry.OpenBoundFileAsync(found, path, cancellationToken) is { } content
            ? Results.Stream(content, "application/octet-stream", System.IO.Path.GetFileName(path))
            : throw new TrackingException(TrackingError.ResourceDoesNotExist, $"{found.Label} has no file '{path}'.");
    }

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
