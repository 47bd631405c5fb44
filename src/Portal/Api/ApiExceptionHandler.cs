using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using Portal.Domain.Common;
using Portal.Infrastructure.Persistence;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// Turns exceptions on script-facing routes into problem answers, once for every endpoint: an unknown id is
/// 404, wrong input 400 naming the fields, a broken rule or state 409, a refused actor 403, a busy or
/// unreachable database 503 with Retry-After. Anything else is a 500 that names no internals.
/// </summary>
internal sealed partial class ApiExceptionHandler(IProblemDetailsService problems, ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (!Problems.IsApiRequest(httpContext.Request))
        {
            return false;
        }

        var (status, title, detail) = exception switch
        {
            _ when DatabaseErrors.IsTransient(exception) => (StatusCodes.Status503ServiceUnavailable, "Database busy", DatabaseErrors.Explain(exception)),
            NotFoundException e => (StatusCodes.Status404NotFound, "Not found", e.Message),
            KeyNotFoundException e => (StatusCodes.Status404NotFound, "Not found", e.Message),
            InvalidInputException e => (StatusCodes.Status400BadRequest, "One or more validation errors occurred.", e.Message),
            Portal.Infrastructure.Datasets.Ingestion.DatasetFileException e => (StatusCodes.Status400BadRequest, "One or more validation errors occurred.", e.Message),
            NotPermittedException e => (StatusCodes.Status403Forbidden, "Forbidden", e.Message),
            DomainException e => (StatusCodes.Status409Conflict, "Conflict", e.Message),
            BadHttpRequestException e => (e.StatusCode, "Bad request", Explain(e)),
            _ => (StatusCodes.Status500InternalServerError, "Unexpected error",
                $"The portal failed to handle this request; the error is logged with trace id {httpContext.TraceIdentifier}."),
        };
        if (status == StatusCodes.Status503ServiceUnavailable)
        {
            // Clients (MLflow's among them) retry a 503 after this many seconds.
            httpContext.Response.Headers.RetryAfter = DatabaseErrors.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            LogBusy(httpContext.TraceIdentifier, exception.GetBaseException().Message);
        }
        else if (status >= 500)
        {
            LogUnhandled(exception, httpContext.TraceIdentifier);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = FieldsOf(exception) is { } errors
                ? new HttpValidationProblemDetails(errors) { Status = status, Title = title, Detail = detail }
                : new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    private static IDictionary<string, string[]>? FieldsOf(Exception exception) => exception switch
    {
        InvalidInputException e => e.Errors.ToDictionary(),
        Portal.Infrastructure.Datasets.DatasetInputException e => new Dictionary<string, string[]> { [e.Field] = [e.Message] },
        Portal.Infrastructure.Datasets.Ingestion.DatasetFileException e => new Dictionary<string, string[]> { ["file"] = [e.Message] },
        _ => null,
    };

    private static string Explain(BadHttpRequestException exception) =>
        exception.InnerException is System.Text.Json.JsonException json
            ? $"The request body is not valid JSON for this route: {json.Message}"
            : exception.Message;

    [LoggerMessage(Level = LogLevel.Warning, Message = "API request {TraceId} met a busy or unreachable database: {Reason}")]
    private partial void LogBusy(string traceId, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error in API request {TraceId}")]
    private partial void LogUnhandled(Exception exception, string traceId);
}
