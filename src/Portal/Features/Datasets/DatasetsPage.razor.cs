using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Shared;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;
using Portal.Security;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Datasets;

/// <summary>All datasets, paged, searched and sorted on the server.</summary>
public sealed partial class DatasetsPage : IDisposable
{
    private readonly LatestLoad _loads = new();
    private RadzenDataGrid<DatasetSummary> _grid = default!;
    private IReadOnlyList<DatasetSummary>? _page;
    private int _total;
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

    private Task LoadAsync(LoadDataArgs args) => _loads.RunAsync(async token =>
    {
        var sort = args.Sorts?.FirstOrDefault();
        var by = sort?.Property switch
        {
            nameof(DatasetSummary.UpdatedAt) => DatasetSort.Updated,
            nameof(DatasetSummary.Versions) => DatasetSort.Versions,
            _ => DatasetSort.Name,
        };
        var result = await Catalog.ListAsync(new DatasetQuery(_search, by, sort?.SortOrder == SortOrder.Descending, args.Skip ?? 0, args.Top ?? 20), token);
        (_page, _total) = (result.Datasets, result.Total);
    });

    private async Task OnSearchInput(ChangeEventArgs e)
    {
        _search = e.Value?.ToString();
        await _grid.FirstPage(forceReload: true);
    }

    public void Dispose()
    {
        _loads.Dispose();
    }
}
