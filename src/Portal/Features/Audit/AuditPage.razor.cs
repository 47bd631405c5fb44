using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Components;
using Portal.Components.Shared;
using Portal.Domain.Audit;
using Portal.Infrastructure.Audit;
using MudBlazor;

namespace Portal.Features.Audit;

/// <summary>The audit trail, filtered and paged on the server; new entries are announced live.</summary>
public sealed partial class AuditPage
{
    private static readonly KindOption[] Kinds =
    [
        new("Security events", "security."),
        new("People and roles", "user."),
        new("Access tokens", "token."),
        new("Portal start-up", "portal."),
        new("Demo seeding", "demo."),
        new("Model versions", "model."),
        new("Approvals", "approval."),
        new("Policies", "policy."),
    ];

    /// <summary>The CSV export of what the filters show (all pages).</summary>
    private string ExportLink => "/api/v1/audit/export.csv" + QueryString.Create(new Dictionary<string, string?>
    {
        ["entity"] = string.IsNullOrWhiteSpace(_entity) ? null : _entity.Trim(),
        ["actor"] = string.IsNullOrWhiteSpace(_actor) ? null : _actor.Trim(),
        ["action"] = _action,
        ["from"] = Utc(_from)?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
        ["to"] = Utc(_to)?.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
    }.Where(p => p.Value is not null)).ToUriComponent();
    private MudDataGrid<AuditEntry>? _grid;
    // Null until the first load: the grid loads its first page itself only while Data is null.
    private int _total;
    private int _newEntries;
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

    /// <summary>Pre-selects a kind, e.g. <c>?action=security.</c> from the Home page.</summary>
    [SupplyParameterFromQuery(Name = "action")]
    private string? ActionFromQuery { get; set; }

    [SupplyParameterFromQuery(Name = "entity")]
    private string? EntityFromQuery { get; set; }

    protected override void OnInitialized()
    {
        _action = Kinds.Any(k => k.Prefix == ActionFromQuery) ? ActionFromQuery : null;
        _entity = EntityFromQuery;
        Live<AuditEntryRecorded>(batch =>
        {
            _newEntries += batch.Count;
            return Task.CompletedTask;
        }, coalesce: TimeSpan.FromSeconds(1));
    }

    private async Task<GridData<AuditEntry>> LoadAsync(GridState<AuditEntry> state, CancellationToken token)
    {
        _rangeProblem = _from > _to ? "'From' is after 'To': no entry can match." : null;
        var result = await Trail.SearchAsync(new AuditQuery(_entity, _actor, _action, Utc(_from), Utc(_to), GridSort<AuditEntry>.Skip(state), state.PageSize), token);
        _total = result.Total;
        return new GridData<AuditEntry> { Items = result.Entries, TotalItems = result.Total };
    }

    private async Task ReloadAsync()
    {
        _newEntries = 0;
        await _grid.FirstPageAsync();
    }

    private async Task VerifyAsync()
    {
        _verifying = true;
        try
        {
            _verification = await Trail.VerifyAsync(Showing);
        }
        finally
        {
            _verifying = false;
        }
    }

    private static DateTime? Utc(DateTime? value) => value is { } v ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : null;

    private sealed record KindOption(string Text, string Prefix);
}
