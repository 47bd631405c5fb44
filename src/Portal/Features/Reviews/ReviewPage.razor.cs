using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Layout;
using Portal.Domain.Common;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Features.Models;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Models;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Reviews;

/// <summary>
/// A reviewer's view of one request: the evidence pack and the decision buttons, enabled only when the
/// domain says this reviewer may decide (and explaining why not otherwise). Other reviewers' decisions arrive live.
/// </summary>
public sealed partial class ReviewPage
{
    private ApprovalRequest? _request;
    private EvidencePack? _pack;
    private LineageView? _lineage;
    private string? _whyNot;
    private string? _message;
    private bool _missing;

    [Parameter]
    public Guid Id { get; set; }

    [Inject]
    private Approvals Approvals { get; set; } = default!;

    [Inject]
    private PageTrail Trail { get; set; } = default!;

    [Inject]
    private EvidencePacks Packs { get; set; } = default!;

    [Inject]
    private LineageGraph Lineage { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private DateTime Now => Time.GetUtcNow().UtcDateTime;

    protected override string RouteKey => Id.ToString();

    protected override void OnInitialized() => Live<ApprovalDecided>(ReloadAsync, e => e.RequestId == Id);

    // Another request: its own lineage and evidence, not the previous request's.
    protected override void ResetState() => (_request, _pack, _lineage, _whyNot, _message, _missing) = (null, null, null, null, null, false);

    protected override Task OnParametersSetAsync() => ReloadAsync();

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        _request = await Approvals.FindAsync(Id, cancel);
        _missing = _request is null;
        if (_request is null)
        {
            return;
        }

        Trail.Set($"/reviews/{Id}", ("Reviews", "/reviews"), ($"{_request.ModelName} v{_request.Version}", null));
        _pack = await Packs.LoadAsync(_request.ModelName, _request.Version, cancel);
        _whyNot = _pack is null ? "The model version no longer exists." : _request.WhyNot((await AuthenticationState).User.ToActor(), _pack.Version);
        _lineage ??= await Lineage.WalkAsync(ArtifactRef.Parse($"model:{_request.ModelName}:{_request.Version}"), LineageDirection.Upstream, 3, cancel);
    });

    private async Task DecideAsync(Verdict verdict)
    {
        var title = verdict == Verdict.Approve ? "Approve" : "Reject";
        if (await Dialogs.OpenAsync<DecisionDialog>($"{title} {_pack!.Version.Label}",
                new Dictionary<string, object?> { ["RequestId"] = Id, ["Verdict"] = verdict, ["Label"] = _pack.Version.Label }) is true)
        {
            await ReloadAsync();
            _message = _request!.State switch
            {
                ApprovalState.Approved => $"Approved: the policy is met and {_pack.Version.Label} may be deployed. The author was notified.",
                ApprovalState.Rejected => $"Rejected: {_pack.Version.Label} will not be deployed. The author was notified.",
                _ => $"Your approval is recorded ({_request.ApprovalsGiven} of {_request.Policy.ApprovalsRequired}); the author was notified.",
            };
        }
    }
}
