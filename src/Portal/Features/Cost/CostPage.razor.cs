using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.Extensions.Options;
using MudBlazor;
using Portal.Domain.Common;
using Portal.Domain.Compute;
using Portal.Features.Compute;
using Portal.Infrastructure.Compute;
using Portal.Infrastructure.Configuration;
using Portal.Security;

namespace Portal.Features.Cost;

/// <summary>
/// Costs over a period grouped one way, cost over time, efficiency per team, budgets with burn-down and
/// forecast (Ops and administrators set them), and reconciliation with an imported Azure export. Live.
/// </summary>
public sealed partial class CostPage
{
    private static readonly CostGroup[] Groups = [CostGroup.Team, CostGroup.User, CostGroup.Experiment, CostGroup.Model, CostGroup.Endpoint, CostGroup.Compute, CostGroup.Owner];
    private MudDataGrid<CostRow>? _grid;
    private string _period = "month";
    private CostGroup _group = CostGroup.Team;
    private string _team = "";
    private string _compute = "";
    private IReadOnlyList<string> _teams = [];
    private IReadOnlyList<string> _computes = [];
    private CostReport? _report;
    private CostSeries? _series;
    private IReadOnlyList<CostRow> _byTeam = [];
    private IReadOnlyList<BudgetStatus> _budgets = [];
    private IReadOnlyDictionary<string, UsageOwnerRow> _owners = new Dictionary<string, UsageOwnerRow>();
    private Guid? _selected;
    private Actor _actor = Actor.Anonymous;
    private bool _mayManage;
    private BudgetScope _scope = BudgetScope.Team;
    private string _key = "";
    private decimal _amount;
    private FieldErrors _errors = new();
    private IReadOnlyList<CostImport> _imports = [];
    private Guid _importId;
    private Reconciliation? _reconciliation;
    private IReadOnlyList<string>? _importProblem;
    private IReadOnlyList<Portal.Domain.Monitoring.Alert> _alerts = [];
    private DateTime _updated;

    [Inject]
    private Portal.Infrastructure.Monitoring.AlertService Alerts { get; set; } = default!;

    [Inject]
    private CostReports Reports { get; set; } = default!;

    [Inject]
    private CostService Costs { get; set; } = default!;

    [Inject]
    private TelemetryQueries Queries { get; set; } = default!;

    [Inject]
    private IOptions<PortalOptions> Options { get; set; } = default!;

    [Inject]
    private TimeProvider Time { get; set; } = default!;

    [Inject]
    private ISnackbar Snackbar { get; set; } = default!;

    [CascadingParameter]
    private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    private string Currency => Reports.Currency;

    private DateTime Now => Time.GetUtcNow().UtcDateTime;

    private BudgetStatus? Selected => _budgets.FirstOrDefault(b => b.Budget.Id == _selected) ?? _budgets.FirstOrDefault();

    private (DateTime From, DateTime To) Range() => (Period.Months.FirstOrDefault(p => p.Key == _period) ?? Period.Months[0]).Range(Now);

    private string CsvLink
    {
        get
        {
            var (from, to) = Range();
            var query = $"groupBy={_group.ToString().ToLowerInvariant()}&from={Uri.EscapeDataString(from.ToString("O", CultureInfo.InvariantCulture))}&to={Uri.EscapeDataString(to.ToString("O", CultureInfo.InvariantCulture))}&format=csv";
            query += _team.Length > 0 ? $"&team={Uri.EscapeDataString(_team)}" : "";
            query += _compute.Length > 0 ? $"&compute={Uri.EscapeDataString(_compute)}" : "";
            return $"/api/v1/costs?{query}";
        }
    }

    protected override void OnInitialized()
    {
        // Costs move with readings (GPU time) and alerts (a budget crossing); a few updates a minute is plenty.
        Live<GpuTelemetryIngested>(RefreshAsync, coalesce: TimeSpan.FromSeconds(10));
    }

    protected override async Task OnInitializedAsync()
    {
        _actor = (await AuthenticationState).User.ToActor();
        _mayManage = CostService.MayManageBudgets(_actor);
        await LoadAsync(async token =>
        {
            _computes = await Queries.ComputesAsync(token);
            _imports = await Costs.ImportsAsync(token);
            if (_imports.Count > 0)
            {
                _importId = _imports[0].Id;
                _reconciliation = await Costs.ReconcileAsync(_importId, token);
            }

            await LoadFiguresAsync(token);
        });
    }

    private async Task LoadFiguresAsync(CancellationToken token)
    {
        var (from, to) = Range();
        var filter = new CostFilter(Blank(_team), Blank(_compute));
        // One pricing of the period serves the table, the stacked chart and the team chart (every team).
        var period = await Reports.PeriodAsync(from, to, filter, token);
        _report = period.Report(_group, filter);
        _series = period.Series(_group, filter, 10);
        _byTeam = period.Report(CostGroup.Team, new CostFilter(Compute: Blank(_compute))).Rows;
        _teams = _byTeam.Select(r => r.Key).Order(StringComparer.Ordinal).ToList();
        _budgets = await Reports.BudgetsAsync(token);
        _alerts = (await Alerts.ListAsync(new Portal.Infrastructure.Monitoring.AlertQuery(SourcePrefixes: ["budget:"]), token)).Alerts;
        _updated = Now;
        _owners = period.Owners;
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }
    }

    private Task RefreshAsync() => LoadAsync(LoadFiguresAsync);

    private Task ChangeAsync(Action change)
    {
        change();
        return RefreshAsync();
    }

    private string Label(string key) => _group == CostGroup.Owner && _owners.TryGetValue(key, out var owner) ? owner.Label : key;

    private static double? Efficiency(CostReport report) =>
        CostMath.Efficiency(report.Rows.Sum(r => (r.Efficiency ?? 0) * r.GpuHours), report.Rows.Where(r => r.Efficiency is not null).Sum(r => r.GpuHours));

    private Task<GridData<CostRow>> LoadRowsAsync(GridState<CostRow> state, CancellationToken token)
    {
        var rows = _report?.Rows ?? [];
        var (key, descending) = GridSort<CostRow>.Of(state);
        IEnumerable<CostRow> sorted = key switch
        {
            "Key" => GridSort<CostRow>.Order(rows, r => r.Key, descending),
            "GpuHours" => GridSort<CostRow>.Order(rows, r => r.GpuHours, descending),
            "ComputeHours" => GridSort<CostRow>.Order(rows, r => r.ComputeHours, descending),
            "Efficiency" => GridSort<CostRow>.Order(rows, r => r.Efficiency ?? -1, descending),
            "IdleCost" => GridSort<CostRow>.Order(rows, r => r.IdleCost, descending),
            "WastedCost" => GridSort<CostRow>.Order(rows, r => r.WastedCost, descending),
            _ => GridSort<CostRow>.Order(rows, r => r.Cost, key is null || descending),
        };
        return Task.FromResult(GridSort<CostRow>.Page(sorted, state, rows.Count));
    }


    private bool Has(string field) => _errors.For(field).Count > 0;

    private string? ErrorOf(string field) => _errors.For(field) is { Count: > 0 } messages ? string.Join(" ", messages) : null;

    private async Task SaveBudgetAsync()
    {
        _errors = new FieldErrors();
        try
        {
            var budget = await Costs.SaveBudgetAsync(_scope, _key, _amount, _actor, Showing);
            _selected = budget.Id;
            Snackbar.Add($"The budget of {budget.Label} is {budget.MonthlyAmount.ToString("N2", CultureInfo.InvariantCulture)} {budget.Currency} a month.", Severity.Success);
            await RefreshAsync();
        }
        catch (InvalidInputException e)
        {
            _errors = e.Errors;
        }
        catch (DomainException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
    }

    private async Task DeleteBudgetAsync(Guid id)
    {
        try
        {
            await Costs.DeleteBudgetAsync(id, _actor, Showing);
            await RefreshAsync();
        }
        catch (DomainException e)
        {
            Snackbar.Add(e.Message, Severity.Error);
        }
    }

    private async Task ImportAsync(InputFileChangeEventArgs e)
    {
        _importProblem = null;
        var limit = Options.Value.Cost.MaxImportMegabytes * 1024L * 1024;
        if (e.File.Size > limit)
        {
            _importProblem = [$"{e.File.Name} is {e.File.Size / 1024 / 1024:N0} MB; a cost export is at most {Options.Value.Cost.MaxImportMegabytes:N0} MB (Portal:Cost:MaxImportMegabytes). Export a shorter period."];
            return;
        }

        try
        {
            await using var stream = e.File.OpenReadStream(limit, Showing);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = await reader.ReadToEndAsync(Showing);
            _reconciliation = await Costs.ImportAsync(e.File.Name, text, _actor, Showing);
            _imports = await Costs.ImportsAsync(Showing);
            _importId = _reconciliation.Import.Id;
            Snackbar.Add($"Imported {_reconciliation.Import.Rows} lines ({_reconciliation.Import.Format}).", Severity.Success);
        }
        catch (InvalidInputException problem)
        {
            _importProblem = problem.Errors.Fields.SelectMany(f => problem.Errors.For(f)).Take(20).ToList();
        }
        catch (DomainException problem)
        {
            _importProblem = [problem.Message];
        }
    }

    private async Task ShowImportAsync(Guid id)
    {
        _importId = id;
        _reconciliation = await Costs.ReconcileAsync(id, Showing);
    }

    private string Money(decimal value) => $"{value.ToString("N2", CultureInfo.InvariantCulture)} {Currency}";

    private static string? Blank(string value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
