using Microsoft.AspNetCore.Components;
using Portal.Components.Layout;
using Portal.Components.Shared;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Experiments;
using MudBlazor;

namespace Portal.Features.Experiments;

/// <summary>
/// The runs of an experiment: server-side paging, sorting by any metric or param, MLflow filter syntax,
/// a column chooser with pinned columns, selection for compare and CSV export. New and finished runs
/// appear live.
/// </summary>
public sealed partial class RunsPage
{
    private readonly HashSet<string> _selected = new(StringComparer.Ordinal);
    private MudDataGrid<Run>? _grid;
    private int _total;
    private Experiment? _experiment;
    private bool _missing;
    private string? _filter;
    private string? _filterDraft;
    private string? _filterError;
    private string? _orderBy;
    private IReadOnlyList<string> _available = [];
    private IReadOnlyCollection<string> _columns = [];
    private IReadOnlyCollection<string> _pinned = [];

    private long _shownExperiment = -1;

    [Parameter]
    public long ExperimentId { get; set; }

    /// <summary>The view is in the address (filter, sort, columns), so it can be shared and survives a reload.</summary>
    [SupplyParameterFromQuery(Name = "filter")]
    public string? FilterQuery { get; set; }

    [SupplyParameterFromQuery(Name = "columns")]
    public string? ColumnsQuery { get; set; }

    [SupplyParameterFromQuery(Name = "pinned")]
    public string? PinnedQuery { get; set; }

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private PageTrail Trail { get; set; } = default!;

    [Inject]
    private RunSearch Search { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private IEnumerable<string> OrderedColumns => _columns.OrderBy(c => !_pinned.Contains(c));

    private string ExportUrl => $"/api/v1/experiments/{ExperimentId}/runs.csv?filter={Uri.EscapeDataString(_filter ?? "")}&orderBy={Uri.EscapeDataString(_orderBy ?? "")}&columns={Uri.EscapeDataString(string.Join(',', _columns))}";

    protected override string RouteKey => ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture);

    // Live: keep the page the person is looking at current, without jumping pages.
    protected override void OnInitialized() =>
        Live<IRunEvent>(() => _grid?.ReloadServerData() ?? Task.CompletedTask, e => e.ExperimentId == ExperimentId, TimeSpan.FromSeconds(1));

    protected override void ResetState()
    {
        _selected.Clear();
        (_experiment, _missing, _filterError, _orderBy, _total) = (null, false, null, null, 0);
    }

    protected override async Task OnParametersSetAsync()
    {
        // Changing the address ourselves (a filter, columns) re-sets parameters; only another experiment reloads.
        if (_shownExperiment == ExperimentId)
        {
            return;
        }

        _shownExperiment = ExperimentId;
        (_filter, _filterDraft) = (string.IsNullOrWhiteSpace(FilterQuery) ? null : FilterQuery, FilterQuery);
        try
        {
            _experiment = await Tracking.GetExperimentAsync(ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture), Showing);
            Trail.Set($"/experiments/{ExperimentId}", ("Experiments", "/experiments"), (_experiment.Name, null));
        }
        catch (TrackingException)
        {
            _missing = true;
            return;
        }

        var columns = await Search.ColumnsAsync([ExperimentId], Showing);
        _available = [.. columns.Metrics.Select(k => $"metrics.{k}"), .. columns.Params.Select(k => $"params.{k}"), .. columns.Tags.Select(k => $"tags.{k}")];
        _columns = ColumnsQuery is { Length: > 0 } chosen
            ? chosen.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(_available.Contains).ToList()
            : [.. columns.Metrics.Take(4).Select(k => $"metrics.{k}"), .. columns.Params.Take(4).Select(k => $"params.{k}")];
        _pinned = PinnedQuery is { } pinned ? pinned.Split(',', StringSplitOptions.RemoveEmptyEntries).Where(_columns.Contains).ToList() : _columns.Take(1).ToList();
    }

    private async Task<GridData<Run>> LoadAsync(GridState<Run> state, CancellationToken token)
    {
        var (key, descending) = GridSort<Run>.Of(state);
        _orderBy = key is null ? null : $"{OrderKey(key)} {(descending ? "DESC" : "ASC")}";
        try
        {
            var page = await Search.SearchAsync(new RunQuery([ExperimentId], _filter, _orderBy, GridSort<Run>.Skip(state), state.PageSize, CountTotal: true), token);
            (_total, _filterError) = (page.Total, null);
            return new GridData<Run> { Items = page.Items, TotalItems = page.Total };
        }
        catch (TrackingException e)
        {
            (_total, _filterError) = (0, e.Message);
            return new GridData<Run> { Items = [], TotalItems = 0 };
        }
        finally
        {
            await InvokeAsync(StateHasChanged);
        }
    }

    private void RememberView() => Navigation.NavigateTo(Navigation.GetUriWithQueryParameters(new Dictionary<string, object?>
    {
        ["filter"] = _filter,
        ["columns"] = string.Join(',', _columns),
        ["pinned"] = string.Join(',', _pinned),
    }), replace: true);

    private static string OrderKey(string property) => property switch
    {
        nameof(Run.Name) => "attributes.run_name",
        nameof(Run.Status) => "attributes.status",
        nameof(Run.UserId) => "attributes.user_id",
        nameof(Run.StartTime) => "attributes.start_time",
        _ => property,
    };

    private async Task ApplyFilterAsync()
    {
        _filter = string.IsNullOrWhiteSpace(_filterDraft) ? null : _filterDraft.Trim();
        RememberView();
        await _grid.FirstPageAsync();
    }

    private async Task ClearFilterAsync()
    {
        (_filter, _filterDraft) = (null, null);
        RememberView();
        await _grid.FirstPageAsync();
    }

    private async Task ColumnsChangedAsync()
    {
        _pinned = _pinned.Where(_columns.Contains).ToList();
        RememberView();
        if (_grid is not null)
        {
            await _grid.ReloadServerData();
        }
    }

    private void Toggle(string runId, bool selected)
    {
        if (selected)
        {
            _selected.Add(runId);
        }
        else
        {
            _selected.Remove(runId);
        }
    }

    private void Compare() => Navigation.NavigateTo($"/experiments/compare?runs={string.Join(',', _selected)}");

    private static string Cell(Run run, string column)
    {
        var (kind, key) = (column[..column.IndexOf('.', StringComparison.Ordinal)], column[(column.IndexOf('.', StringComparison.Ordinal) + 1)..]);
        return kind switch
        {
            "metrics" => run.Metrics.TryGetValue(key, out var m) ? RunFormat.Number(m.Value) : "",
            "params" => run.Params.GetValueOrDefault(key) ?? "",
            _ => run.Tags.GetValueOrDefault(key) ?? "",
        };
    }
}
