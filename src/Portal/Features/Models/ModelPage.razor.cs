using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Domain.Models;
using Portal.Infrastructure.Models;
using Portal.Security;

namespace Portal.Features.Models;

/// <summary>A registered model: its versions as a timeline (states, who approved what and when, what is in production) and its policy.</summary>
public sealed partial class ModelPage
{
    private IReadOnlyList<ModelVersion> _versions = [];
    private IReadOnlyList<ApprovalRequest> _requests = [];
    private EffectivePolicy? _governance;
    private bool _missing;
    private bool _isAdmin;

    [Parameter]
    public string Name { get; set; } = "";

    [Inject]
    private ModelRegistry Registry { get; set; } = default!;

    [Inject]
    private Approvals Approvals { get; set; } = default!;

    [Inject]
    private RegistryPolicies Policies { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override string RouteKey => $"model:{Name}:";

    protected override void OnInitialized() =>
        Live<IDomainEvent>(ReloadAsync, e => e.Subject.StartsWith(RouteKey, StringComparison.Ordinal) && e is ModelVersionStateChanged or ApprovalDecided or ApprovalRequested);

    protected override void ResetState() => (_versions, _requests, _governance, _missing) = ([], [], null, false);

    protected override async Task OnParametersSetAsync()
    {
        _isAdmin = (await AuthenticationState).User.ToActor().IsIn(Roles.Admin);
        await ReloadAsync();
    }

    private Task ReloadAsync() => LoadAsync(async cancel =>
    {
        _versions = await Registry.VersionsAsync(Name, cancel);
        _missing = _versions.Count == 0;
        if (_missing)
        {
            return;
        }

        _requests = (await Approvals.ListAsync(new ApprovalQuery(Model: Name, Take: 500), cancel)).Requests;
        _governance = await Policies.ForModelAsync(Name, cancel);
    });

    private async Task<string?> SaveAsync(ApprovalPolicy? policy, ValidationSettings? checks)
    {
        try
        {
            await Policies.SaveForModelAsync(Name, policy, checks, (await AuthenticationState).User.ToActor(), CancellationToken.None);
            _governance = await Policies.ForModelAsync(Name, CancellationToken.None);
            return null;
        }
        catch (DomainException e)
        {
            return e.Message;
        }
    }
}
