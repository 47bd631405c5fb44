using Microsoft.EntityFrameworkCore;
using Portal.Domain.Ports;
using Portal.Features.Navigation;
using System.Security.Claims;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Experiments;
using Portal.Security;
using Portal.Infrastructure.Persistence;

namespace Portal.Api;

internal static class RunsApi
{
    public static void MapRunsApi(this RouteGroupBuilder api)
    {
        var runs = api.MapGroup("/runs").WithTags("Runs").RequireAuthorization(PortalAreas.Policies.Experiments);
        runs.MapGet("/{runId}", GetAsync).WithSummary("A run: status, params, latest metrics, tags, inputs");
        runs.MapGet("/{runId}/artifacts", ListArtifactsAsync).WithSummary("Files the run produced: [{path, size, hash}]");
        runs.MapGet("/{runId}/artifacts/{**path}", DownloadAsync).WithSummary("The bytes of one artifact");
        runs.MapGet("/{runId}/metrics/{key}/series", SeriesAsync)
            .WithSummary("A metric for charts: every point, or at most ~maxPoints (min/max envelope) over the step range");
    }

    private static async Task<IResult> GetAsync(string runId, TrackingStore tracking, RunArtifacts artifacts, CancellationToken cancellationToken)
    {
        if (await tracking.FindRunAsync(runId, cancellationToken) is not { } run)
        {
            return NotFound(runId);
        }

        return TypedResults.Ok(new
        {
            runId = run.Id,
            experimentId = run.ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture),
            name = run.Name,
            status = run.Status.ToString(),
            user = run.UserId,
            startTime = run.StartTime,
            endTime = run.EndTime,
            @params = run.Params,
            metrics = run.Metrics.ToDictionary(m => m.Key, m => double.IsFinite(m.Value.Value) ? (double?)m.Value.Value : null),
            tags = run.Tags,
            inputs = run.Inputs,
            parentRunId = run.ParentRunId,
        });
    }

    private static async Task<IResult> ListArtifactsAsync(string runId, TrackingStore tracking, RunArtifacts artifacts, CancellationToken cancellationToken)
    {
        if (await tracking.FindRunAsync(runId, cancellationToken) is null)
        {
            return NotFound(runId);
        }

        return TypedResults.Ok((await artifacts.ListAsync(runId, null, cancellationToken)).Select(a => new { path = a.Path, size = a.Size, hash = a.Hash }));
    }

    private static async Task<IResult> DownloadAsync(string runId, string path, RunArtifacts artifacts, TrackingStore tracking, DatasetCatalog catalog,
        ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (RunArtifacts.PathProblem(Uri.UnescapeDataString(path)) is { } problem)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Bad request", detail: problem);
        }

        // What a run made from personal data may hold it: only those who may read that data raw get its files.
        if (await tracking.FindRunAsync(runId, cancellationToken) is { } run
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"run:{runId}", run.Inputs, cancellationToken) is { } refusal)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: refusal);
        }

        if (await artifacts.OpenAsync(runId, Uri.UnescapeDataString(path), cancellationToken) is not { } found)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"Run {runId} has no artifact '{path}'.");
        }

        return TypedResults.Stream(found.Content, "application/octet-stream", Path.GetFileName(found.Artifact.Path));
    }

    private static async Task<IResult> SeriesAsync(string runId, string key, MetricSeries series, TrackingStore tracking, CancellationToken cancellationToken,
        long? from = null, long? to = null, int maxPoints = MetricSeries.DefaultMaxPoints)
    {
        // A run that exists but never logged the key has an empty series (as MLflow's history); an unknown run is 404.
        if (await tracking.FindRunAsync(runId, cancellationToken) is null)
        {
            return NotFound(runId);
        }

        var result = await series.ReadAsync(runId, key, from, to, maxPoints, cancellationToken);
        return TypedResults.Ok(new
        {
            runId,
            key,
            downsampled = result.Downsampled,
            fromStep = result.FromStep,
            toStep = result.ToStep,
            steps = result.Points.Select(p => p.Step),
            values = result.Points.Select(p => p.Value),
        });
    }

    private static IResult NotFound(string runId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"There is no run {runId}.");
}
