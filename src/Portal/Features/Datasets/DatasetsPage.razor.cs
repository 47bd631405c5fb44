using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Shared;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Datasets;

/// <summary>All datasets, paged, searched and sorted on the server.</summary>
public sealed partial class DatasetsPage : IDisposable
{
    private readonly LatestLoad _loads = new();
    private MudDataGrid<DatasetSummary>? _grid;
    private bool _canEdit;
    private string? _search;

    [Inject]
    private DatasetCatalog Catalog { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync() =>
        _canEdit = Dataset.CanEdit((await AuthenticationState).User.ToActor());

    private async Task<GridData<DatasetSummary>> LoadAsync(GridState<DatasetSummary> state, CancellationToken token)
    {
        var (key, descending) = GridSort<DatasetSummary>.Of(state);
        var by = key switch
        {
            nameof(DatasetSummary.UpdatedAt) => DatasetSort.Updated,
            nameof(DatasetSummary.Versions) => DatasetSort.Versions,
            _ => DatasetSort.Name,
        };
        var result = await Catalog.ListAsync(new DatasetQuery(_search, by, descending, GridSort<DatasetSummary>.Skip(state), state.PageSize), token);
        return new GridData<DatasetSummary> { Items = result.Datasets, TotalItems = result.Total };
    }

    private Task OnSearchChangedAsync() => _grid.FirstPageAsync();

    public void Dispose()
    {
        _loads.Dispose();
    }
}
