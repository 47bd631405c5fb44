using Microsoft.AspNetCore.Components;
using Portal.Components.Shared;
using Portal.Infrastructure.Experiments;
using MudBlazor;

namespace Portal.Features.Experiments;

/// <summary>All experiments with their run counts, searched by name on the server.</summary>
public sealed partial class ExperimentsPage : IDisposable
{
    private readonly LatestLoad _loads = new();
    private MudDataGrid<ExperimentSummary>? _grid;
    private string? _search;

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private async Task<GridData<ExperimentSummary>> LoadAsync(GridState<ExperimentSummary> state, CancellationToken token)
    {
        var result = await Tracking.SearchExperimentsAsync(_search, GridSort<ExperimentSummary>.Skip(state), state.PageSize, includeDeleted: false, token);
        return new GridData<ExperimentSummary> { Items = result.Items, TotalItems = result.Total };
    }

    private Task OnSearchChangedAsync() => _grid.FirstPageAsync();

    public void Dispose() => _loads.Dispose();
}
