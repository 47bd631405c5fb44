using Microsoft.AspNetCore.Components;
using Portal.Domain.Common;
using Portal.Domain.Models;
using Portal.Infrastructure.Models;
using MudBlazor;
using Portal.Domain.Identity;
using Portal.Security;

namespace Portal.Features.Reviews;

/// <summary>The reviewer inbox: paged, sorted and filtered on the server; new requests and decisions refresh it live.</summary>
public sealed partial class ReviewsPage
{
    private static readonly IReadOnlyList<(string Text, ApprovalState? Value)> StateChoices =
        [("Open", ApprovalState.Open), ("Approved", ApprovalState.Approved), ("Rejected", ApprovalState.Rejected), ("Expired", ApprovalState.Expired), ("Void", ApprovalState.Void), ("All", null)];

    private MudDataGrid<InboxRow>? _grid;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private ApprovalState? _state = ApprovalState.Open;
    private string? _model;
    // Like Home's count: by default the inbox lists only what this reviewer can still decide.
    private bool _onlyMine = true;
    private Actor _actor = Actor.Anonymous;

    [CascadingParameter]
    private Task<Microsoft.AspNetCore.Components.Authorization.AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject]
    private EvidencePacks Packs { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        Live<IDomainEvent>(() => _grid?.ReloadServerData() ?? Task.CompletedTask, e => e is ApprovalRequested or ApprovalDecided);
    }

    private bool Filtered => _onlyMine && _state == ApprovalState.Open;

    private async Task<GridData<InboxRow>> LoadAsync(GridState<InboxRow> state, CancellationToken token)
    {
        var (key, descending) = GridSort<InboxRow>.Of(state);
        var (rows, total) = await Packs.InboxAsync(
            new ApprovalQuery(_state, _model, ModelContains: true, key, descending, GridSort<InboxRow>.Skip(state), state.PageSize, Filtered ? _actor : null), token);
        return new GridData<InboxRow> { Items = rows, TotalItems = total };
    }
}
