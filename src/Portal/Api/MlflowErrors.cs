using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Persistence;

namespace Portal.Api;

/// <summary>MLflow's error body (<c>{error_code, message}</c>) and status for each refusal.</summary>
internal static class MlflowErrors
{
    /// <summary>The tracking routes: any other rule broken reads as MLflow's INVALID_PARAMETER_VALUE (400).</summary>
    public static ValueTask<object?> TranslateTrackingAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        TranslateAsync(context, next, registry: false);

    /// <summary>
    /// The registry routes: a missing model or version is RESOURCE_DOES_NOT_EXIST (404), bad input
    /// INVALID_PARAMETER_VALUE (400), and a lifecycle refusal (a protected alias on an unapproved version,
    /// deleting what waits for review) INVALID_STATE with 409, naming what to do instead.
    /// </summary>
    public static ValueTask<object?> TranslateRegistryAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next) =>
        TranslateAsync(context, next, registry: true);

    private static async ValueTask<object?> TranslateAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next, bool registry)
    {
        try
        {
            return await next(context);
        }
        catch (TrackingException e)
        {
            var status = e.Error == TrackingError.ResourceDoesNotExist ? StatusCodes.Status404NotFound : StatusCodes.Status400BadRequest;
            return Error(e.Code, e.Message, status);
        }
        catch (NotPermittedException e)
        {
            return Error("PERMISSION_DENIED", e.Message, StatusCodes.Status403Forbidden);
        }
        catch (NotFoundException e) when (registry)
        {
            return Error("RESOURCE_DOES_NOT_EXIST", e.Message, StatusCodes.Status404NotFound);
        }
        catch (InvalidInputException e) when (registry)
        {
            return Error("INVALID_PARAMETER_VALUE", e.Message, StatusCodes.Status400BadRequest);
        }
        catch (DomainException e)
        {
            return registry ? Error("INVALID_STATE", e.Message, StatusCodes.Status409Conflict) : Error("INVALID_PARAMETER_VALUE", e.Message, StatusCodes.Status400BadRequest);
        }
        catch (Exception e) when (DatabaseErrors.IsTransient(e))
        {
            // MLflow's error code for 503; its client retries it with back-off.
            context.HttpContext.Response.Headers.RetryAfter = DatabaseErrors.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return Error("TEMPORARILY_UNAVAILABLE", DatabaseErrors.Explain(e), StatusCodes.Status503ServiceUnavailable);
        }
    }

    private static IResult Error(string code, string message, int status) =>
        Results.Json(new { error_code = code, message }, MlflowApi.Json, statusCode: status);
}
