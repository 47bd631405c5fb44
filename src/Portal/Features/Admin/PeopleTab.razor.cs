using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Components.Shared;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.Security;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Admin;

/// <summary>People and their roles: paged, sorted and filtered on the server; every change is audited.</summary>
public sealed partial class PeopleTab : IDisposable
{
    private static readonly string[] RoleFilterOptions = [.. Roles.All];

    private readonly LatestLoad _loads = new();
    private RadzenDataGrid<UserSummary> _grid = default!;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private IReadOnlyList<UserSummary>? _page;
    private int _total;
    private string? _search;
    private string? _role;
    private LoadDataArgs _lastArgs = new() { Skip = 0, Top = 20 };

    [Inject]
    private UserDirectory Users { get; set; } = default!;

    [Inject]
    private DialogService Dialogs { get; set; } = default!;

    [Inject]
    private NotificationService Toasts { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private Task LoadAsync(LoadDataArgs args) => _loads.RunAsync(async token =>
    {
        _lastArgs = args;
        var sort = args.Sorts?.FirstOrDefault();
        var (by, descending) = (sort?.Property, sort?.SortOrder) switch
        {
            (nameof(UserSummary.DisplayName), var o) => (UserSort.DisplayName, o == SortOrder.Descending),
            (nameof(UserSummary.LastSignInAt), var o) => (UserSort.LastSignIn, o == SortOrder.Descending),
            (nameof(UserSummary.UserName), var o) => (UserSort.UserName, o == SortOrder.Descending),
            _ => (UserSort.UserName, false),
        };
        var result = await Users.SearchAsync(new UserQuery(_search, _role, by, descending, args.Skip ?? 0, args.Top ?? 20), token);
        (_page, _total) = (result.Users, result.Total);
    });

    private async Task OnSearchInput(ChangeEventArgs e)
    {
        _search = e.Value?.ToString();
        await ReloadAsync();
    }

    private Task ReloadAsync() => _grid.FirstPage(forceReload: true);

    private async Task CreateAsync()
    {
        if (await Dialogs.OpenAsync<NewPersonDialog>("New person", options: new DialogOptions { Width = "32rem" }) is true)
        {
            Toasts.Notify(NotificationSeverity.Success, "Person created", "They can sign in with the password you set.");
            await LoadAsync(_lastArgs);
        }
    }

    private async Task EditRolesAsync(UserSummary user)
    {
        var saved = await Dialogs.OpenAsync<EditRolesDialog>($"Roles of {user.UserName}",
            new Dictionary<string, object?> { [nameof(EditRolesDialog.User)] = user }, new DialogOptions { Width = "30rem" });
        if (saved is true)
        {
            Toasts.Notify(NotificationSeverity.Success, "Roles changed", $"{user.UserName} signs in again to use them.");
            await LoadAsync(_lastArgs);
        }
    }

    private async Task SetLockedAsync(UserSummary user, bool locked)
    {
        if (locked && await Dialogs.Confirm($"{user.UserName} is signed out and cannot sign in or use tokens until unlocked.", $"Lock {user.UserName}?",
                new ConfirmOptions { OkButtonText = "Lock", CancelButtonText = "Cancel" }) != true)
        {
            return;
        }

        try
        {
            var actor = (await AuthenticationState).User.ToActor();
            await Users.SetLockedAsync(actor, user.UserName, locked);
            Toasts.Notify(NotificationSeverity.Success, locked ? "Locked" : "Unlocked", user.UserName);
        }
        catch (DomainException ex)
        {
            Toasts.Notify(NotificationSeverity.Warning, "Not changed", ex.Message);
        }

        await LoadAsync(_lastArgs);
    }

    public void Dispose()
    {
        _loads.Dispose();
    }
}
