using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Portal.Domain.Common;
using Portal.Security;
using MudBlazor;

namespace Portal.Features.Notifications;

/// <summary>
/// The bell in the header: live events for the signed-in person (rules in <see cref="NotificationRules"/>),
/// as toasts and a short history. Bursts are coalesced into one update.
/// </summary>
public sealed partial class NotificationCenter
{
    internal const int MaxKept = 50;
    internal const int MaxToastsPerBurst = 3;
    private static readonly TimeSpan CoalesceWindow = TimeSpan.FromMilliseconds(300);

    private readonly List<LiveNotification> _items = [];
    private Actor _viewer = Actor.Anonymous;
    private int _unread;
    private bool _open;

    [Inject]
    private ISnackbar Toasts { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    protected override async Task OnInitializedAsync()
    {
        _viewer = (await AuthenticationState).User.ToActor();
        Live<IDomainEvent>(OnEventsAsync, e => NotificationRules.Describe(e, _viewer) is not null, CoalesceWindow);
    }

    private Task OnEventsAsync(IReadOnlyList<IDomainEvent> batch)
    {
        var notes = batch.Select(e => NotificationRules.Describe(e, _viewer)).OfType<LiveNotification>().ToList();
        if (notes.Count == 0)
        {
            return Task.CompletedTask;
        }

        _items.InsertRange(0, Enumerable.Reverse(notes));
        if (_items.Count > MaxKept)
        {
            _items.RemoveRange(MaxKept, _items.Count - MaxKept);
        }

        _unread += notes.Count;
        if (notes.Count <= MaxToastsPerBurst)
        {
            foreach (var note in notes)
            {
                Toasts.Add($"{note.Summary}: {note.Detail}", ToSeverity(note.Severity));
            }
        }
        else
        {
            Toasts.Add($"{notes.Count} new notifications: open the bell to read them.", Severity.Info);
        }

        return Task.CompletedTask;
    }

    private void Toggle()
    {
        _open = !_open;
        if (_open)
        {
            _unread = 0;
        }
    }

    private void Clear()
    {
        _items.Clear();
        _unread = 0;
    }

    private static Severity ToSeverity(LiveSeverity severity) => severity switch
    {
        LiveSeverity.Success => Severity.Success,
        LiveSeverity.Warning => Severity.Warning,
        LiveSeverity.Error => Severity.Error,
        _ => Severity.Info,
    };
}
