using Microsoft.AspNetCore.Mvc;

namespace Portal.Security;

/// <summary>Writes <c>application/problem+json</c> answers for script-facing routes.</summary>
public static class Problems
{
    /// <summary>Routes scripts and external clients call: they get problem JSON, never a redirect to a sign-in page.</summary>
    public static bool IsApiRequest(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        return request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/hubs")
            || request.Path.StartsWithSegments("/openapi") || request.Path.StartsWithSegments("/score")
            || request.Path.StartsWithSegments("/metrics");
    }

    public static async Task WriteAsync(HttpContext context, int status, string title, string detail)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.StatusCode = status;
        if (status == StatusCodes.Status401Unauthorized)
        {
            context.Response.Headers.WWWAuthenticate = "Basic realm=\"MLOps Portal\", Bearer realm=\"MLOps Portal\"";
        }

        var problems = context.RequestServices.GetRequiredService<IProblemDetailsService>();
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails = new ProblemDetails { Status = status, Title = title, Detail = detail },
        });
    }

    public static Task UnauthorizedAsync(HttpContext context, string detail) =>
        WriteAsync(context, StatusCodes.Status401Unauthorized, "Authentication required", detail);
}
