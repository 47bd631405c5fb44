using Microsoft.AspNetCore.Components;
using Portal.Components.Shared;
using Portal.Domain.Experiments;
using Portal.Domain.Ports;
using Portal.Infrastructure.Experiments;
using Radzen;
using Radzen.Blazor;

namespace Portal.Features.Experiments;

/// <summary>
/// The runs of an experiment: server-side paging, sorting by any metric or param, MLflow filter syntax,
/// a column chooser with pinned columns, selection for compare and CSV export. New and finished runs
/// appear live.
/// </summary>
public sealed partial class RunsPage : IDisposable
{
    private readonly LatestLoad _loads = new();
    private readonly HashSet<string> _selected = new(StringComparer.Ordinal);
    private RadzenDataGrid<Run> _grid = default!;
    private IReadOnlyList<Run>? _page;
    private int _total;
    private Experiment? _experiment;
    private bool _missing;
    private string? _filter;
    private string? _filterDraft;
    private string? _filterError;
    private string? _orderBy;
    private IReadOnlyList<string> _available = [];
    private IEnumerable<string> _columns = [];
    private IEnumerable<string> _pinned = [];
    private IDisposable? _subscription;

    [Parameter]
    public long ExperimentId { get; set; }

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private RunSearch Search { get; set; } = default!;

    [Inject]
    private IEventBus Bus { get; set; } = default!;

    [Inject]
    private NavigationManager Navigation { get; set; } = default!;

    private IEnumerable<string> OrderedColumns => _columns.OrderBy(c => !_pinned.Contains(c));

    private string ExportUrl => $"/api/v1/experiments/{ExperimentId}/runs.csv?filter={Uri.EscapeDataString(_filter ?? "")}&orderBy={Uri.EscapeDataString(_orderBy ?? "")}&columns={Uri.EscapeDataString(string.Join(',', _columns))}";

    protected override async Task OnParametersSetAsync()
    {
        try
        {
            _experiment = await Tracking.GetExperimentAsync(ExperimentId.ToString(System.Globalization.CultureInfo.InvariantCulture), _loads.Disposed);
        }
        catch (TrackingException)
        {
            _missing = true;
            return;
        }

        var columns = await Search.ColumnsAsync([ExperimentId], _loads.Disposed);
        _available = [.. columns.Metrics.Select(k => $"metrics.{k}"), .. columns.Params.Select(k => $"params.{k}"), .. columns.Tags.Select(k => $"tags.{k}")];
        _columns = [.. columns.Metrics.Take(4).Select(k => $"metrics.{k}"), .. columns.Params.Take(4).Select(k => $"params.{k}")];
        _pinned = _columns.Take(1).ToList();
        _subscription ??= Bus.Subscribe<IRunEvent>(_ => InvokeAsync(async () =>
        {
            // Live: keep the page the person is looking at current, without jumping pages.
            if (!_loads.Loading)
            {
                await _grid.Reload();
            }
        }), e => e.ExperimentId == ExperimentId, TimeSpan.FromSeconds(1));
    }

    private Task LoadAsync(LoadDataArgs args) => _loads.RunAsync(async token =>
    {
        var sort = args.Sorts?.FirstOrDefault(s => s.SortOrder is not null);
        _orderBy = sort is null ? null : $"{OrderKey(sort.Property ?? "")} {(sort.SortOrder == SortOrder.Descending ? "DESC" : "ASC")}";
        try
        {
            var page = await Search.SearchAsync(new RunQuery([ExperimentId], _filter, _orderBy, args.Skip ?? 0, args.Top ?? 50, CountTotal: true), token);
            (_page, _total) = (page.Items, page.Total);
            _filterError = null;
        }
        catch (TrackingException e)
        {
            (_page, _total, _filterError) = ([], 0, e.Message);
        }
    });

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
        await _grid.FirstPage(forceReload: true);
    }

    private async Task ClearFilterAsync()
    {
        (_filter, _filterDraft) = (null, null);
        await _grid.FirstPage(forceReload: true);
    }

    private async Task ColumnsChangedAsync()
    {
        _pinned = _pinned.Where(_columns.Contains).ToList();
        await _grid.Reload();
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

    public void Dispose()
    {
        _subscription?.Dispose();
        _loads.Dispose();
    }
}
