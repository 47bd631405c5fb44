using Microsoft.AspNetCore.Components;
using Portal.Infrastructure.Models;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Models;

/// <summary>Registered models, paged, sorted and filtered on the server.</summary>
public sealed partial class ModelsPage
{
    private RadzenDataGrid<ModelSummary>? _grid;

    // Null until the first load: the grid loads its first page itself only while Data is null.
    private IReadOnlyList<ModelSummary>? _rows;
    private int _total;
    private bool _loading;
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

    private async Task LoadAsync(LoadDataArgs args)
    {
        _loading = true;
        var sort = args.Sorts?.FirstOrDefault();
        var (rows, total) = await Registry.SearchAsync(new ModelQuery(_filter, sort?.Property, sort?.SortOrder == SortOrder.Descending, args.Skip ?? 0, args.Top ?? 20), CancellationToken.None);
        (_rows, _total, _loading) = (rows, total, false);
    }
}
