using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Portal.Domain.Common;
using Portal.Domain.Experiments;
using Portal.Features.Navigation;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// MLflow's model-registry REST API (<c>/api/2.0/mlflow/registered-models/*</c>, <c>/model-versions/*</c>)
/// onto the portal's governed registry, so <c>mlflow.register_model</c> and <c>MlflowClient</c> work unchanged
/// while versions still pass the portal's checks and approval before protected aliases or stages.
/// </summary>
internal static class MlflowRegistryApi
{
    public const int DefaultModelResults = 100;
    public const int MaxModelResults = 1000;
    public const int DefaultVersionResults = 10_000;
    public const int MaxVersionResults = 200_000;

    public static WebApplication MapMlflowRegistryApi(this WebApplication app)
    {
        var models = app.MapGroup("/api/2.0/mlflow/registered-models").WithTags("MLflow model registry")
            .RequireAuthorization(PortalAreas.Policies.Experiments).AddEndpointFilter(MlflowErrors.TranslateRegistryAsync).DisableAntiforgery();
        models.MapPost("/create", CreateModelAsync);
        models.MapGet("/get", GetModelAsync);
        models.MapPost("/rename", RenameModelAsync);
        models.MapPatch("/update", UpdateModelAsync);
        models.MapDelete("/delete", DeleteModelAsync);
        models.MapGet("/search", SearchModelsAsync);
        models.MapMethods("/get-latest-versions", ["GET", "POST"], LatestVersionsAsync);
        models.MapPost("/set-tag", SetModelTagAsync);
        models.MapDelete("/delete-tag", DeleteModelTagAsync);
        models.MapPost("/alias", SetAliasAsync);
        models.MapDelete("/alias", DeleteAliasAsync);
        models.MapGet("/alias", GetByAliasAsync);

        var versions = app.MapGroup("/api/2.0/mlflow/model-versions").WithTags("MLflow model registry")
            .RequireAuthorization(PortalAreas.Policies.Experiments).AddEndpointFilter(MlflowErrors.TranslateRegistryAsync).DisableAntiforgery();
        versions.MapPost("/create", CreateVersionAsync);
        versions.MapGet("/get", GetVersionAsync);
        versions.MapPatch("/update", UpdateVersionAsync);
        versions.MapDelete("/delete", DeleteVersionAsync);
        versions.MapGet("/search", SearchVersionsAsync);
        versions.MapGet("/get-download-uri", DownloadUriAsync);
        versions.MapPost("/transition-stage", TransitionStageAsync);
        versions.MapPost("/set-tag", SetVersionTagAsync);
        versions.MapDelete("/delete-tag", DeleteVersionTagAsync);
        return app;
    }

    /// <summary>GET carries its arguments in the query; POST, PATCH and DELETE (as MLflow's client sends them) in a JSON body.</summary>
    private static async Task<MlflowJson> ArgsAsync(HttpRequest request, CancellationToken cancellationToken) =>
        HttpMethods.IsGet(request.Method) || (HttpMethods.IsDelete(request.Method) && request.ContentLength is null or 0 && request.Query.Count > 0)
            ? MlflowJson.FromQuery(request.Query)
            : await MlflowJson.ReadAsync(request, cancellationToken);

    private static Dictionary<string, string> Tags(MlflowJson body) =>
        body.KeyValues("tags").ToDictionary(t => t.Key ?? "", t => t.Value ?? "", StringComparer.Ordinal);

    private static async Task<IResult> CreateModelAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var model = await registry.CreateModelAsync(body.Required("name"), body.String("description"), Tags(body), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { registered_model = MlflowShapes.RegisteredModel(model) });
    }

    private static async Task<IResult> GetModelAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        return MlflowApi.Ok(new { registered_model = MlflowShapes.RegisteredModel(await registry.GetModelAsync(body.Required("name"), cancellationToken)) });
    }

    private static async Task<IResult> RenameModelAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await MlflowRegistry.RenameModelAsync(body.Required("name"), body.String("new_name"));
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> UpdateModelAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var model = await registry.UpdateModelAsync(body.Required("name"), body.String("description"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { registered_model = MlflowShapes.RegisteredModel(model) });
    }

    private static async Task<IResult> DeleteModelAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.DeleteModelAsync(body.Required("name"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> SearchModelsAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var take = Take(body, DefaultModelResults, MaxModelResults);
        var (found, next) = await registry.SearchModelsAsync(body.String("filter"), take, body.Strings("order_by").FirstOrDefault(), body.String("page_token"), cancellationToken);
        return MlflowApi.Ok(new { registered_models = found.Select(MlflowShapes.RegisteredModel), next_page_token = next });
    }

    private static async Task<IResult> LatestVersionsAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var latest = await registry.LatestVersionsAsync(body.Required("name"), body.Strings("stages"), cancellationToken);
        return MlflowApi.Ok(new { model_versions = latest.Select(MlflowShapes.ModelVersion) });
    }

    private static async Task<IResult> SetModelTagAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.SetModelTagAsync(body.Required("name"), body.String("key"), body.String("value"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> DeleteModelTagAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.DeleteModelTagAsync(body.Required("name"), body.String("key"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> SetAliasAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.SetAliasAsync(body.Required("name"), body.String("alias"), body.String("version"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> DeleteAliasAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.DeleteAliasAsync(body.Required("name"), body.String("alias"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> GetByAliasAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var version = await registry.VersionByAliasAsync(body.Required("name"), body.String("alias"), cancellationToken);
        return MlflowApi.Ok(new { model_version = MlflowShapes.ModelVersion(version) });
    }

    private static async Task<IResult> CreateVersionAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var version = await registry.CreateVersionAsync(body.Required("name"), body.String("source"), body.String("run_id"), Tags(body), body.String("description"),
            user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { model_version = MlflowShapes.ModelVersion(version) });
    }

    private static async Task<IResult> GetVersionAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        return MlflowApi.Ok(new { model_version = MlflowShapes.ModelVersion(await registry.GetVersionAsync(body.Required("name"), body.String("version"), cancellationToken)) });
    }

    private static async Task<IResult> UpdateVersionAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var version = await registry.UpdateVersionAsync(body.Required("name"), body.String("version"), body.String("description"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { model_version = MlflowShapes.ModelVersion(version) });
    }

    private static async Task<IResult> DeleteVersionAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.DeleteVersionAsync(body.Required("name"), body.String("version"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> SearchVersionsAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var take = Take(body, DefaultVersionResults, MaxVersionResults);
        var (found, next) = await registry.SearchVersionsAsync(body.String("filter"), take, body.Strings("order_by").FirstOrDefault(), body.String("page_token"), cancellationToken);
        return MlflowApi.Ok(new { model_versions = found.Select(MlflowShapes.ModelVersion), next_page_token = next });
    }

    private static async Task<IResult> DownloadUriAsync(HttpRequest request, MlflowRegistry registry, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var version = await registry.GetVersionAsync(body.Required("name"), body.String("version"), cancellationToken);
        return MlflowApi.Ok(new { artifact_uri = MlflowRegistry.DownloadUri(version.Version) });
    }

    private static async Task<IResult> TransitionStageAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        var archive = body.Root.TryGetProperty("archive_existing_versions", out var flag)
            && (flag.ValueKind == JsonValueKind.True || (flag.ValueKind == JsonValueKind.String && bool.TryParse(flag.GetString(), out var parsed) && parsed));
        var version = await registry.TransitionStageAsync(body.Required("name"), body.String("version"), body.Required("stage"), archive, user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { model_version = MlflowShapes.ModelVersion(version) });
    }

    private static async Task<IResult> SetVersionTagAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.SetVersionTagAsync(body.Required("name"), body.String("version"), body.String("key"), body.String("value"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static async Task<IResult> DeleteVersionTagAsync(HttpRequest request, MlflowRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var body = await ArgsAsync(request, cancellationToken);
        await registry.DeleteVersionTagAsync(body.Required("name"), body.String("version"), body.String("key"), user.ToActor(), cancellationToken);
        return MlflowApi.Ok(new { });
    }

    private static int Take(MlflowJson body, int fallback, int max)
    {
        var take = body.Int32("max_results") ?? fallback;
        return take is < 1 || take > max
            ? throw TrackingException.Invalid($"Invalid value {take.ToString(CultureInfo.InvariantCulture)} for parameter 'max_results' supplied. It must be between 1 and {max.ToString(CultureInfo.InvariantCulture)}.")
            : take;
    }
}
