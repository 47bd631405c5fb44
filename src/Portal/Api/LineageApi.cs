using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Portal.Domain.Lineage;
using Portal.Features.Navigation;
using Portal.Infrastructure.Lineage;
using Portal.Security;

namespace Portal.Api;

internal static class LineageApi
{
    public const int DefaultDepth = 3;

    public static void MapLineageApi(this RouteGroupBuilder api)
    {
        var lineage = api.MapGroup("/lineage").WithTags("Lineage").RequireAuthorization(PortalAreas.Policies.Lineage);
        lineage.MapGet("/", WalkAsync).WithSummary("Walk lineage upstream or downstream from an artifact");
        lineage.MapPost("/openlineage", ImportAsync).WithSummary("Record an OpenLineage run event").RequireAuthorization(PortalAreas.Policies.LineageWrite);
        lineage.MapGet("/openlineage", FeedAsync).WithSummary("The portal's lineage as OpenLineage run events");
    }

    private static async Task<IResult> WalkAsync(LineageGraph graph, CancellationToken cancellationToken, string? artifact = null, string? direction = null, int depth = DefaultDepth)
    {
        var errors = new Dictionary<string, string[]>();
        if (!ArtifactRef.TryParse(artifact, out var root, out var problem))
        {
            errors["artifact"] = [problem];
        }

        LineageDirection? walk = (direction ?? "both").ToLowerInvariant() switch
        {
            "upstream" => LineageDirection.Upstream,
            "downstream" => LineageDirection.Downstream,
            "both" => LineageDirection.Both,
            _ => null,
        };
        if (walk is null)
        {
            errors["direction"] = ["direction is upstream, downstream or both."];
        }

        if (depth is < 1 or > LineageGraph.MaxDepth)
        {
            errors["depth"] = [$"depth is 1 to {LineageGraph.MaxDepth}."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        if (!await graph.KnowsAsync(root!, cancellationToken))
        {
            return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"The portal knows nothing about {root}.");
        }

        var view = await graph.WalkAsync(root!, walk!.Value, depth, cancellationToken);
        return TypedResults.Ok(new
        {
            root = view.Root,
            nodes = view.Nodes.Select(n => new { @ref = n.Ref, kind = n.Kind.ToString().ToLowerInvariant(), label = n.Label, distance = view.Distance.GetValueOrDefault(n.Ref) }),
            edges = view.Edges.Select(e => new { from = e.From, to = e.To, relation = Features.Lineage.LineageWords.Relation(e.Relation) }),
        });
    }

    private static async Task<IResult> ImportAsync(OpenLineageEvent? runEvent, LineageGraph graph, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        var errors = OpenLineage.Check(runEvent);
        if (!errors.IsEmpty)
        {
            return TypedResults.ValidationProblem(errors.ToDictionary(), detail: "The OpenLineage event has problems; nothing was recorded.");
        }

        var edges = OpenLineage.Edges(runEvent!);
        var recorded = await graph.RecordAsync(edges, user.ToActor(), "openlineage", cancellationToken);
        return TypedResults.Ok(new
        {
            recorded,
            edges = edges.Select(e => new { from = e.From.ToString(), to = e.To.ToString(), relation = Features.Lineage.LineageWords.Relation(e.Relation) }),
        });
    }

    private static async Task<Ok<IReadOnlyList<OpenLineageEvent>>> FeedAsync(LineageGraph graph, CancellationToken cancellationToken, DateTime? since = null, int take = 1000)
    {
        var edges = await graph.EdgesSinceAsync(since is { } s ? DateTime.SpecifyKind(s, DateTimeKind.Utc) : DateTime.MinValue, take, cancellationToken);
        return TypedResults.Ok(OpenLineage.Events(edges));
    }
}
