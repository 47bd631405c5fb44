using Microsoft.AspNetCore.Components;
using Portal.Domain.Audit;
using Portal.Domain.Ports;
using Portal.Infrastructure.Audit;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Audit;

/// <summary>The audit trail, filtered and paged on the server; new entries are announced live.</summary>
public sealed partial class AuditPage : IDisposable
{
    private static readonly KindOption[] Kinds =
    [
        new("Security events", "security."),
        new("People and roles", "user."),
        new("Access tokens", "token."),
        new("Portal start-up", "portal."),
        new("Demo seeding", "demo."),
    ];

    private readonly CancellationTokenSource _disposed = new();
    private RadzenDataGrid<AuditEntry> _grid = default!;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private IReadOnlyList<AuditEntry>? _page;
    private IDisposable? _subscription;
    private CancellationTokenSource? _load;
    private int _total;
    private int _newEntries;
    private bool _loading;
    private bool _verifying;
    private string? _entity;
    private string? _actor;
    private string? _action;
    private DateTime? _from;
    private DateTime? _to;
    private string? _rangeProblem;
    private AuditVerification? _verification;

    [Inject]
    private AuditTrail Trail { get; set; } = default!;

    [Inject]
    private IEventBus Bus { get; set; } = default!;

    /// <summary>Pre-selects a kind, e.g. <c>?action=security.</c> from the Home page.</summary>
    [SupplyParameterFromQuery(Name = "action")]
    private string? ActionFromQuery { get; set; }

    [SupplyParameterFromQuery(Name = "entity")]
    private string? EntityFromQuery { get; set; }

    protected override void OnInitialized()
    {
        _action = Kinds.Any(k => k.Prefix == ActionFromQuery) ? ActionFromQuery : null;
        _entity = EntityFromQuery;
    }

    protected override void OnAfterRender(bool firstRender)
    {
        if (firstRender)
        {
            _subscription = Bus.Subscribe<AuditEntryRecorded>(batch => InvokeAsync(() =>
            {
                _newEntries += batch.Count;
                StateHasChanged();
            }), coalesce: TimeSpan.FromSeconds(1));
        }
    }

    private async Task LoadAsync(LoadDataArgs args)
    {
        _load?.Cancel();
        _load = CancellationTokenSource.CreateLinkedTokenSource(_disposed.Token);
        var token = _load.Token;
        _rangeProblem = _from > _to ? "'From' is after 'To': no entry can match." : null;
        _loading = true;
        try
        {
            var result = await Trail.SearchAsync(new AuditQuery(_entity, _actor, _action, Utc(_from), Utc(_to), args.Skip ?? 0, args.Top ?? 25), token);
            (_page, _total) = (result.Entries, result.Total);
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
            // Superseded by a newer filter.
        }
        finally
        {
            _loading = false;
        }
    }

    private async Task ReloadAsync()
    {
        _newEntries = 0;
        await _grid.FirstPage(forceReload: true);
    }

    private async Task VerifyAsync()
    {
        _verifying = true;
        try
        {
            _verification = await Trail.VerifyAsync(_disposed.Token);
        }
        finally
        {
            _verifying = false;
        }
    }

    private static DateTime? Utc(DateTime? value) => value is { } v ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : null;

    public void Dispose()
    {
        _subscription?.Dispose();
        _disposed.Cancel();
        _disposed.Dispose();
        _load?.Dispose();
    }

    private sealed record KindOption(string Text, string Prefix);
}
