using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Portal.Operations;

namespace Portal.Api;

public static class ApiEndpoints
{
    public static IServiceCollection AddPortalApi(this IServiceCollection services)
    {
        services.AddOpenApi();
        services.AddProblemDetails();
        services.AddExceptionHandler<ApiExceptionHandler>();
        services.Configure<JsonOptions>(o => o.SerializerOptions.Converters.Add(new JsonStringEnumConverter()));
        // Malformed bodies and parameters throw, so ApiExceptionHandler can say what was wrong.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        return services;
    }

    /// <summary>Maps <c>/api/v1</c> (token or Basic auth for scripts, cookies for the portal's own pages) and the OpenAPI document.</summary>
    public static WebApplication MapPortalApi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapOpenApi().RequireAuthorization();
        var api = app.MapGroup("/api/v1").RequireAuthorization();
        api.MapMeApi();
        api.MapTokensApi();
        api.MapAuditApi();
        api.MapDatasetsApi();
        api.MapLineageApi();
        api.MapJobsApi();
        api.MapRunsApi();
        api.MapExperimentsApi();
        api.MapSweepsApi();
        api.MapModelsApi();
        api.MapApprovalsApi();
        api.MapUsersApi();
        api.MapEndpointsApi();
        api.MapAlertsApi();
        api.MapComputeApi();
        app.MapMlflowApi();
        app.MapMlflowRegistryApi();
        app.MapScoringApi();
        app.MapPortalMetrics();
        return app;
    }
}
