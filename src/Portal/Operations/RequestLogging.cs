using System.Diagnostics;

namespace Portal.Operations;

/// <summary>
/// One log line per request: method, path, status, time and who. Never the query string (hub clients
/// pass tokens in it), headers or bodies, so no secret reaches the log. Scoring calls (thousands a second)
/// and metric scrapes are counted on /metrics instead.
/// </summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        if (path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") || path.StartsWithSegments("/_blazor")
            || path.StartsWithSegments("/healthz") || path.StartsWithSegments("/score") || path.StartsWithSegments("/metrics"))
        {
            await next(context);
            return;
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            LogRequest(context.Request.Method, path.Value ?? "/", context.Response.StatusCode,
                Stopwatch.GetElapsedTime(started).TotalMilliseconds, context.User.Identity?.Name ?? "-");
        }
    }

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "HTTP {Method} {Path} responded {StatusCode} in {ElapsedMs:0.0} ms for {User}")]
    private partial void LogRequest(string method, string path, int statusCode, double elapsedMs, string user);
}
