using Portal.Domain.Common;
using System.Security.Claims;
using Portal.Domain.Jobs;
using Portal.Domain.Ports;
using Portal.Features.Navigation;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Jobs;
using Portal.Security;

namespace Portal.Api;

internal static class JobsApi
{
    public const int MaxLogRead = 4 * 1024 * 1024;

    public static void MapJobsApi(this RouteGroupBuilder api)
    {
        var jobs = api.MapGroup("/jobs").WithTags("Jobs").RequireAuthorization(PortalAreas.Policies.Jobs);
        jobs.MapPost("/", SubmitAsync).WithSummary("Submit a job: a command run with dataset inputs and params, reporting to a new run");
        jobs.MapGet("/", ListAsync).WithSummary("The queue: open jobs, then the latest finished ones");
        jobs.MapGet("/{jobId}", GetAsync).WithSummary("A job's status");
        jobs.MapPost("/{jobId}/cancel", CancelAsync).WithSummary("Cancel a job (its whole process tree)");
        jobs.MapGet("/{jobId}/logs", LogsAsync).WithSummary("A job's combined stdout and stderr (text), from an offset");
    }

    public sealed record SubmitBody(string? Experiment, string? Command, string? CodePath, Dictionary<string, string>? Inputs,
        Dictionary<string, string>? Params, string? Compute, double? TimeoutMinutes, string? RunName, Dictionary<string, string>? Environment);

    private static async Task<IResult> SubmitAsync(SubmitBody? body, JobService jobs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["body"] = ["Send {experiment, command, codePath?, inputs?, params?, compute?} as JSON."] });
        }

        var job = await jobs.SubmitAsync(new JobRequest(body.Experiment, body.Command, body.CodePath, body.Inputs, body.Params, body.Compute, body.TimeoutMinutes, body.RunName,
            Environment: body.Environment),
            user.ToActor(), cancellationToken);
        return TypedResults.Accepted($"/api/v1/jobs/{job.Id}", new { jobId = job.Id, runId = job.RunId, status = job.Status.ToString() });
    }

    private static async Task<IResult> ListAsync(JobService jobs, CancellationToken cancellationToken, int take = 50) =>
        TypedResults.Ok((await jobs.RecentAsync(Math.Clamp(take, 1, 500), cancellationToken)).Select(Shape));

    private static async Task<IResult> GetAsync(string jobId, JobService jobs, CancellationToken cancellationToken) =>
        await jobs.FindAsync(jobId, cancellationToken) is { } job ? TypedResults.Ok(Shape(job)) : NotFound(jobId);

    private static async Task<IResult> CancelAsync(string jobId, JobService jobs, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var (job, message) = await jobs.CancelAsync(jobId, user.ToActor(), cancellationToken);
        return TypedResults.Ok(new { jobId = job.Id, runId = job.RunId, status = job.Status.ToString(), message });
    }

    private static async Task<IResult> LogsAsync(string jobId, IWorkspaceBackend backend, JobService jobs, DatasetCatalog catalog, ClaimsPrincipal user,
        HttpResponse response, CancellationToken cancellationToken, long offset = 0)
    {
        // A job that read personal data may have printed it: its log goes where its data may go.
        if (await jobs.FindAsync(jobId, cancellationToken) is { } job
            && await catalog.RawReadRefusalAsync(user.ToActor(), $"run:{job.RunId}", job.Inputs.Values, cancellationToken) is { } refusal)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden", detail: refusal);
        }

        var chunk = await backend.ReadLogAsync(jobId, offset, MaxLogRead, cancellationToken);
        response.Headers["X-Log-Next-Offset"] = chunk.NextOffset.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Log-Length"] = chunk.Length.ToString(System.Globalization.CultureInfo.InvariantCulture);
        response.Headers["X-Log-Dropped-Bytes"] = chunk.DroppedBytes.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return TypedResults.Text(chunk.Text, "text/plain; charset=utf-8");
    }

    internal static object Shape(Job job) => new
    {
        jobId = job.Id,
        runId = job.RunId,
        experimentId = job.ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture),
        status = job.Status.ToString(),
        command = job.Command,
        codePath = job.CodePath,
        inputs = job.Inputs,
        @params = job.Params,
        compute = job.Compute,
        submittedBy = job.SubmittedBy,
        submittedAt = job.SubmittedAt,
        exitCode = job.ExitCode,
        pid = job.ProcessId,
        startedAt = job.StartedAt,
        endedAt = job.EndedAt,
        reason = job.Reason,
        sweepId = job.SweepId,
        environment = job.Environment,
        system = job.IsSystem,
    };

    private static IResult NotFound(string jobId) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"There is no job {jobId}.");
}
