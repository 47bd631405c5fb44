using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Datasets;
using Portal.Domain.Lineage;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Lineage;
using Portal.Security;

namespace Portal.Features.Datasets;

/// <summary>One dataset version: what it holds, how it checked out, its personal data and its lineage.</summary>
public sealed partial class VersionPage
{
    private Dataset? _dataset;
    private DatasetVersion? _version;
    private LineageView? _lineage;
    private IReadOnlySet<string> _sensitive = new HashSet<string>();
    private bool _mayReadRaw;
    private bool _loaded;
    private bool _canEdit;

    /// <summary>The dataset's name, from the address.</summary>
    [Parameter]
    public string Name { get; set; } = "";

    /// <summary>The version number, from the address.</summary>
    [Parameter]
    public int Number { get; set; }

    [Inject]
    private DatasetCatalog Catalog { get; set; } = default!;

    [Inject]
    private LineageGraph Lineage { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnParametersSetAsync()
    {
        var actor = (await AuthenticationState).User.ToActor();
        _canEdit = Dataset.CanEdit(actor);
        _mayReadRaw = PersonalData.MayReadRaw(actor);
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        var found = await Catalog.FindVersionAsync(Name, Number, cancel);
        _loaded = true;
        (_dataset, _version) = found is { } f ? (f.Dataset, f.Version) : (null, null);
        if (_version is null)
        {
            return;
        }

        // Marked sensitive in the contract or flagged as personal data: masked everywhere on this page.
        _sensitive = PersonalData.SensitiveColumns(_dataset!, _version);
        _lineage = await Lineage.WalkAsync(ArtifactRef.Dataset(Name, Number), LineageDirection.Both, 3, cancel);
    });

    protected override string RouteKey => $"{Name}:{Number}";

    protected override void ResetState() => (_dataset, _version, _lineage, _loaded) = (null, null, null, false);
}
