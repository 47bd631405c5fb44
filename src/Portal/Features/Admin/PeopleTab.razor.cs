using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Shared;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Admin;

/// <summary>People and their roles: paged, sorted and filtered on the server; every change is audited.</summary>
public sealed partial class PeopleTab : IDisposable
{
    private static readonly string[] RoleFilterOptions = [.. Roles.All];

    private readonly LatestLoad _loads = new();
    private MudDataGrid<UserSummary>? _grid;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private string? _search;
    private string? _role;

    [Inject]
    private UserDirectory Users { get; set; } = default!;

    [Inject]
    private IDialogService Dialogs { get; set; } = default!;

    [Inject]
    private ISnackbar Toasts { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private async Task<GridData<UserSummary>> LoadAsync(GridState<UserSummary> state, CancellationToken token)
    {
        var (key, descending) = GridSort<UserSummary>.Of(state);
        var by = key switch
        {
            nameof(UserSummary.DisplayName) => UserSort.DisplayName,
            nameof(UserSummary.LastSignInAt) => UserSort.LastSignIn,
            _ => UserSort.UserName,
        };
        var result = await Users.SearchAsync(new UserQuery(_search, _role, by, key is not null && descending, GridSort<UserSummary>.Skip(state), state.PageSize), token);
        return new GridData<UserSummary> { Items = result.Users, TotalItems = result.Total };
    }

    private Task OnSearchChangedAsync() => _grid.FirstPageAsync();

    private Task ReloadAsync() => _grid.FirstPageAsync();

    private async Task CreateAsync()
    {
        if (await Dialogs.OpenAsync<NewPersonDialog>("New person") is true)
        {
            Toasts.Notify(Severity.Success, "Person created", "They can sign in with the password you set.");
            await RefreshAsync();
        }
    }

    private async Task EditRolesAsync(UserSummary user)
    {
        var saved = await Dialogs.OpenAsync<EditRolesDialog>($"Roles of {user.UserName}",
            new Dictionary<string, object?> { [nameof(EditRolesDialog.User)] = user });
        if (saved is true)
        {
            Toasts.Notify(Severity.Success, "Roles changed", $"{user.UserName} signs in again to use them.");
            await RefreshAsync();
        }
    }

    private async Task SetLockedAsync(UserSummary user, bool locked)
    {
        if (locked && await Dialogs.ConfirmAsync($"{user.UserName} is signed out and cannot sign in or use tokens until unlocked.", $"Lock {user.UserName}?", "Lock", "Cancel") != true)
        {
            return;
        }

        try
        {
            var actor = (await AuthenticationState).User.ToActor();
            await Users.SetLockedAsync(actor, user.UserName, locked);
            Toasts.Notify(Severity.Success, locked ? "Locked" : "Unlocked", user.UserName);
        }
        catch (DomainException ex)
        {
            Toasts.Notify(Severity.Warning, "Not changed", ex.Message);
        }

        await RefreshAsync();
    }

    private Task RefreshAsync() => _grid?.ReloadServerData() ?? Task.CompletedTask;

    public void Dispose()
    {
        _loads.Dispose();
    }
}
