using System.Security.Claims;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Features.Navigation;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Api;

internal static class ModelsApi
{
    public static void MapModelsApi(this RouteGroupBuilder api)
    {
        var models = api.MapGroup("/models").WithTags("Models").RequireAuthorization(PortalAreas.Policies.Models);
        models.MapGet("/", ListAsync).WithSummary("Registered models with their latest, approved and deployed versions");
        models.MapPost("/{name}/versions", RegisterAsync).WithSummary("Register a version from a run's artifact: {runId, artifactPath}");
        models.MapGet("/{name}/versions/{version:int}", GetAsync).WithSummary("A model version with its checks and lineage");
    }

    public sealed record RegisterBody(string? RunId, string? ArtifactPath);

    private static async Task<IResult> ListAsync(ModelRegistry registry, CancellationToken cancellationToken) =>
        TypedResults.Ok((await registry.ListAsync(cancellationToken)).Select(m => new
        {
            name = m.Model.Name,
            description = m.Model.Description,
            versions = m.Versions,
            latestVersion = m.LatestVersion,
            approvedVersion = m.ApprovedVersion,
            deployedVersion = m.DeployedVersion,
        }));

    private static async Task<IResult> RegisterAsync(string name, RegisterBody? body, ModelRegistry registry, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        try
        {
            var version = await registry.RegisterVersionAsync(name, body?.RunId, body?.ArtifactPath, user.ToActor(), cancellationToken);
            return TypedResults.Created($"/api/v1/models/{name}/versions/{version.Version}", new { name, version = version.Version, state = version.State.ToString() });
        }
        catch (ModelInputException e)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]> { [e.Field] = [e.Message] }, detail: e.Message);
        }
    }

    private static async Task<IResult> GetAsync(string name, int version, ModelRegistry registry, LineageGraph lineage, CancellationToken cancellationToken)
    {
        if (await registry.FindVersionAsync(name, version, cancellationToken) is not { } found)
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"There is no version {version} of model '{name}'.");
        }

        var walk = await lineage.WalkAsync(ArtifactRef.Parse($"model:{name}:{version}"), LineageDirection.Upstream, 3, cancellationToken);
        return TypedResults.Ok(new
        {
            name = found.ModelName,
            version = found.Version,
            state = found.State.ToString(),
            stateReason = found.StateReason,
            nextStates = found.NextStates().Select(s => s.ToString()),
            sourceRunId = found.SourceRunId,
            artifactPath = found.ArtifactPath,
            artifactHash = found.ArtifactHash,
            author = found.Author,
            createdAt = found.CreatedAt,
            // The automatic checks (data validation, metrics, champion comparison, slices) come with the validation step.
            checks = Array.Empty<object>(),
            lineage = new { nodes = walk.Nodes.Select(n => n.Ref), edges = walk.Edges.Select(e => new { from = e.From, to = e.To, relation = e.Relation.ToString() }) },
        });
    }
}
