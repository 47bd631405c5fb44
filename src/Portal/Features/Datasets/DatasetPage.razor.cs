using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets;
using Portal.Security;

namespace Portal.Features.Datasets;

/// <summary>A dataset: its versions (newest first, live as new ones arrive) and its contract with history.</summary>
public sealed partial class DatasetPage
{
    private Dataset? _dataset;
    private IReadOnlyList<DatasetVersion> _versions = [];
    private IReadOnlyList<int> _numbers = [];
    private bool _loaded;
    private bool _canEdit;
    private int _compareA;
    private int _compareB;

    /// <summary>The dataset's name, from the address.</summary>
    [Parameter]
    public string Name { get; set; } = "";

    [Inject]
    private DatasetCatalog Catalog { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => Name;

    protected override void OnInitialized() => Live<DatasetVersionRegistered>(ReloadAsync, e => e.Dataset == Name);

    protected override void ResetState() => (_dataset, _versions, _numbers, _loaded, _compareA, _compareB) = (null, [], [], false, 0, 0);

    protected override async Task OnParametersSetAsync()
    {
        _canEdit = Dataset.CanEdit((await AuthenticationState).User.ToActor());
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        _dataset = await Catalog.FindAsync(Name, cancel);
        _loaded = true;
        _versions = _dataset?.Versions.OrderByDescending(v => v.Number).ToList() ?? [];
        _numbers = _versions.Select(v => v.Number).ToList();
        if (_numbers.Count >= 2 && _compareA == 0)
        {
            (_compareA, _compareB) = (_numbers[1], _numbers[0]);
        }
    });
}
