using Microsoft.AspNetCore.Components;
using Portal.Domain.Lineage;
using Portal.Infrastructure.Lineage;
using MudBlazor;

namespace Portal.Features.Lineage;

/// <summary>Searches artifacts, draws their lineage, and lists everything downstream (the impact view).</summary>
public sealed partial class LineagePage
{
    private static readonly string[] Directions = ["both", "upstream", "downstream"];
    private const int ImpactDepth = LineageGraph.MaxDepth;

    private IReadOnlyList<IGrouping<string, LineageNode>> _impact = [];
    private LineageView? _view;
    private string? _search;
    private string? _problem;
    private string _direction = "both";
    private int _depth = 3;

    [Inject]
    private LineageGraph Graph { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [SupplyParameterFromQuery(Name = "artifact")]
    private string? Artifact { get; set; }

    [SupplyParameterFromQuery(Name = "direction")]
    private string? DirectionFromQuery { get; set; }

    [SupplyParameterFromQuery(Name = "depth")]
    private int? DepthFromQuery { get; set; }

    protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
    {
        _search = Artifact;
        _direction = Directions.Contains(DirectionFromQuery) ? DirectionFromQuery! : "both";
        _depth = Math.Clamp(DepthFromQuery ?? 3, 1, LineageGraph.MaxDepth);
        _view = null;
        _problem = null;
        _impact = [];
        if (string.IsNullOrWhiteSpace(Artifact))
        {
            return;
        }

        if (!ArtifactRef.TryParse(Artifact.Trim(), out var root, out var problem))
        {
            _problem = problem;
            return;
        }

        if (!await Graph.KnowsAsync(root, cancel))
        {
            _problem = $"The portal knows nothing about {root}.";
            return;
        }

        var direction = _direction switch { "upstream" => LineageDirection.Upstream, "downstream" => LineageDirection.Downstream, _ => LineageDirection.Both };
        _view = await Graph.WalkAsync(root, direction, _depth, cancel);
        var downstream = await Graph.WalkAsync(root, LineageDirection.Downstream, ImpactDepth, cancel);
        _impact = downstream.Nodes.Where(n => n.Ref != downstream.Root)
            .GroupBy(n => Plural(n.Kind)).OrderBy(g => g.Key, StringComparer.Ordinal).ToList();
    });

    private async Task<IEnumerable<string>> SuggestAsync(string? text, CancellationToken token) => await Graph.SearchAsync(text ?? "");

    private void Go() =>
        Navigation.NavigateTo($"/lineage?artifact={Uri.EscapeDataString(_search?.Trim() ?? "")}&direction={_direction}&depth={_depth}");

    private static string Plural(ArtifactKind kind) => kind switch
    {
        ArtifactKind.Dataset => "Datasets",
        ArtifactKind.Run => "Runs",
        ArtifactKind.Model => "Models",
        ArtifactKind.Deployment => "Deployments",
        _ => "Outside the portal",
    };
}
