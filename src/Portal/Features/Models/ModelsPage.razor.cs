using Microsoft.AspNetCore.Components;
using Portal.Infrastructure.Models;
using MudBlazor;

namespace Portal.Features.Models;

/// <summary>Registered models, paged, sorted and filtered on the server.</summary>
public sealed partial class ModelsPage
{
    private MudDataGrid<ModelSummary>? _grid;

    // Null until the first load: the grid loads its first page itself only while Data is null.
    private string? _filter;

    [Inject]
    private ModelRegistry Registry { get; set; } = default!;

    private static RenderFragment VersionLink(string model, int? version) => builder =>
    {
        if (version is { } v)
        {
            builder.OpenElement(0, "a");
            builder.AddAttribute(1, "href", $"/models/{model}/versions/{v}");
            builder.AddContent(2, $"v{v}");
            builder.CloseElement();
        }
        else
        {
            builder.AddContent(3, "–");
        }
    };

    private async Task<GridData<ModelSummary>> LoadAsync(GridState<ModelSummary> state, CancellationToken token)
    {
        var (key, descending) = GridSort<ModelSummary>.Of(state);
        var (rows, total) = await Registry.SearchAsync(new ModelQuery(_filter, key, descending, GridSort<ModelSummary>.Skip(state), state.PageSize), token);
        return new GridData<ModelSummary> { Items = rows, TotalItems = total };
    }
}
