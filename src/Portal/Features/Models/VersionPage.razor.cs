using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Models;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Models;

/// <summary>
/// One model version: state and why, the evidence pack, and only the actions that are legal now and allowed
/// for the viewer (edit the card before review, ask for approval once validated). Updates live.
/// </summary>
public sealed partial class VersionPage
{
    private EvidencePack? _pack;
    private LineageView? _lineage;

    /// <summary>The MLflow aliases pointing here (champion, candidate…); the stage is on the version.</summary>
    private IReadOnlyList<string> _aliases = [];
    private ApprovalRequest? _openRequest;
    private bool _missing;
    private bool _canEditCard;
    private bool _canRequest;
    private bool _isReviewer;
    private bool _canArchive;

    /// <summary>Someone who could retire it sees why Archive is not offered for a version serving traffic.</summary>
    private bool _inProductionForRetirer;
    private string? _message;

    /// <summary>Endpoints and deployments serving this version.</summary>
    private IReadOnlyList<(Domain.Deployments.Endpoint Endpoint, Domain.Deployments.Deployment Deployment)> _deployedAt = [];

    [Parameter]
    public string Name { get; set; } = "";

    [Parameter]
    public int Number { get; set; }

    [Inject]
    private EvidencePacks Packs { get; set; } = default!;

    [Inject]
    private LineageGraph Lineage { get; set; } = default!;

    [Inject]
    private Portal.Infrastructure.Models.MlflowRegistry Mlflow { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private Infrastructure.Deployments.EndpointService Endpoints { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => $"model:{Name}:{Number}";

    protected override void OnInitialized() =>
        Live<IDomainEvent>(ReloadAsync, e => e.Subject == RouteKey && e is ModelVersionStateChanged or ApprovalDecided or ApprovalRequested);

    protected override void ResetState() => (_pack, _lineage, _openRequest, _missing, _message) = (null, null, null, false, null);

    protected override Task OnParametersSetAsync() => ReloadAsync();

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        var actor = (await AuthenticationState).User.ToActor();
        _pack = await Packs.LoadAsync(Name, Number, cancel);
        _missing = _pack is null;
        if (_pack is null)
        {
            return;
        }

        _canEditCard = _pack.Version.MayEditCard(actor);
        _canRequest = _pack.Version.MayRequestApproval(actor);
        _openRequest = _pack.Requests.FirstOrDefault(r => r.State == ApprovalState.Open);
        _isReviewer = actor.IsIn(_pack.Governance.Policy.ReviewerRole);
        _canArchive = _pack.Version.MayArchive(actor);
        _inProductionForRetirer = _pack.Version.State == ModelState.Deployed && _pack.Version.IsRetiredBy(actor);
        _lineage = await Lineage.WalkAsync(ArtifactRef.Parse($"model:{Name}:{Number}"), LineageDirection.Both, 3, cancel);
        _aliases = (await Mlflow.GetVersionAsync(Name, Number.ToString(System.Globalization.CultureInfo.InvariantCulture), cancel)).Aliases;
        _deployedAt = await Endpoints.WhereDeployedAsync(Name, Number, cancel);
    });

    private async Task EditCardAsync()
    {
        if (await Dialogs.OpenAsync<ModelCardDialog>($"Model card of {_pack!.Version.Label}",
                new Dictionary<string, object?> { ["Version"] = _pack.Version }) is true)
        {
            _message = "Model card saved.";
            await ReloadAsync();
        }
    }

    private async Task RequestAsync()
    {
        if (await Dialogs.OpenAsync<RequestApprovalDialog>($"Request approval of {_pack!.Version.Label}",
                new Dictionary<string, object?> { ["Version"] = _pack.Version, ["Policy"] = _pack.Governance.Policy }) is true)
        {
            _message = "Sent for approval; reviewers were notified.";
            await ReloadAsync();
        }
    }

    private async Task ArchiveAsync()
    {
        if (await Dialogs.OpenAsync<ArchiveDialog>($"Archive {_pack!.Version.Label}",
                new Dictionary<string, object?> { ["Version"] = _pack.Version }) is true)
        {
            _message = "Archived.";
            await ReloadAsync();
        }
    }
}
