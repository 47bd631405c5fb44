using Microsoft.AspNetCore.Components;
using Portal.Components.Shared;
using Portal.Infrastructure.Experiments;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Experiments;

/// <summary>All experiments with their run counts, searched by name on the server.</summary>
public sealed partial class ExperimentsPage : IDisposable
{
    private readonly LatestLoad _loads = new();
    private RadzenDataGrid<ExperimentSummary> _grid = default!;
    private IReadOnlyList<ExperimentSummary>? _page;
    private int _total;
    private string? _search;

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private Task LoadAsync(LoadDataArgs args) => _loads.RunAsync(async token =>
    {
        var result = await Tracking.SearchExperimentsAsync(_search, args.Skip ?? 0, args.Top ?? 20, includeDeleted: false, token);
        (_page, _total) = (result.Items, result.Total);
    });

    private async Task OnSearchInput(ChangeEventArgs e)
    {
        _search = e.Value?.ToString();
        await _grid.FirstPage(forceReload: true);
    }

    public void Dispose() => _loads.Dispose();
}
