using Plotly.Blazor.Traces;
using Plotly.Blazor.Traces.ParCoordsLib;
using Portal.Components.Charts;
using Portal.Components.Shared;
using System.Globalization;
using Microsoft.AspNetCore.Components;
using Portal.Domain.Experiments;
using Portal.Infrastructure.Experiments;

namespace Portal.Features.Experiments;

/// <summary>
/// 2 to 200 runs side by side: overlaid curves of one metric (downsampled per run, refined on zoom),
/// parallel coordinates of params against the metric, a scatter of any two values, and a diff table.
/// </summary>
public sealed partial class ComparePage
{
    public const int MaxRuns = 200;
    public const int MaxPointsPerSeries = 1000;
    private const int MaxDiffColumns = 30;
    private readonly Dictionary<string, Series> _curves = new(StringComparer.Ordinal);
    private IReadOnlyList<Run> _runs = [];
    private IReadOnlyList<string> _metricKeys = [];
    private IReadOnlyList<string> _paramKeys = [];
    private IReadOnlyList<string> _axes = [];
    private string? _metric;
    private string? _scatterX;
    private string? _scatterY;
    private string? _problem;
    private bool _onlyDifferences = true;

    [SupplyParameterFromQuery(Name = "runs")]
    public string? RunIds { get; set; }

    [Inject]
    private TrackingStore Tracking { get; set; } = default!;

    [Inject]
    private MetricSeries Series { get; set; } = default!;

    protected override string RouteKey => RunIds ?? "";

    protected override void ResetState()
    {
        _curves.Clear();
        (_metric, _scatterX, _scatterY) = (null, null, null);
    }

    protected override Task OnParametersSetAsync() => LoadAsync(async cancel =>
    {
        var ids = (RunIds ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct(StringComparer.Ordinal).ToList();
        if (ids.Count is < 2 or > MaxRuns)
        {
            _problem = $"Choose 2 to {MaxRuns} runs to compare (got {ids.Count}); select them in an experiment's runs table.";
            return;
        }

        _runs = await Tracking.GetRunsAsync(ids, cancel);
        if (_runs.Count < 2)
        {
            _problem = "Fewer than two of these runs exist.";
            return;
        }

        _problem = null;
        _metricKeys = [.. _runs.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        _paramKeys = [.. _runs.SelectMany(r => r.Params.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        _axes = [.. _paramKeys.Select(k => $"params.{k}"), .. _metricKeys.Select(k => $"metrics.{k}")];
        _metric ??= _metricKeys.FirstOrDefault(k => k.Contains("auc", StringComparison.OrdinalIgnoreCase)) ?? _metricKeys.FirstOrDefault();
        _scatterX ??= _paramKeys.Count > 0 ? $"params.{_paramKeys[0]}" : _axes.FirstOrDefault();
        _scatterY ??= _metric is null ? _axes.LastOrDefault() : $"metrics.{_metric}";
        await LoadCurvesAsync(null, null);
    });

    private async Task MetricChangedAsync() => await LoadCurvesAsync(null, null);

    private async Task ZoomAsync((double? From, double? To) range)
    {
        await LoadCurvesAsync(range.From is null ? null : (long)Math.Floor(range.From.Value), range.To is null ? null : (long)Math.Ceiling(range.To.Value));
        StateHasChanged();
    }

    private async Task LoadCurvesAsync(long? from, long? to)
    {
        _curves.Clear();
        if (_metric is null)
        {
            return;
        }

        foreach (var run in _runs.Where(r => r.Metrics.ContainsKey(_metric!)))
        {
            _curves[run.Id] = await Series.ReadAsync(run.Id, _metric, from, to, MaxPointsPerSeries, Showing);
        }
    }

    private IList<Plotly.Blazor.ITrace> Curves() =>
        [.. _runs.Where(r => _curves.ContainsKey(r.Id)).Select(r => Plots.Series(r.Name, _curves[r.Id].Points.Select(p => p.Step), _curves[r.Id].Points.Select(p => p.Value)))];

    private IList<Plotly.Blazor.ITrace> Parallel()
    {
        var dimensions = new List<Dimension>();
        foreach (var key in _paramKeys.Take(12))
        {
            var values = _runs.Select(r => r.Params.GetValueOrDefault(key)).ToList();
            if (values.All(v => v is null || double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _)))
            {
                dimensions.Add(new Dimension { Label = key, Values = [.. values.Select(v => (object?)(v is null ? null : double.Parse(v, CultureInfo.InvariantCulture)))] });
            }
            else
            {
                // Text params become categories: positions on the axis, labelled with the values.
                var categories = values.Select(v => v ?? "(none)").Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
                dimensions.Add(new Dimension
                {
                    Label = key,
                    Values = [.. values.Select(v => (object)categories.IndexOf(v ?? "(none)"))],
                    TickVals = [.. Enumerable.Range(0, categories.Count).Cast<object>()],
                    TickText = [.. categories],
                });
            }
        }

        var metric = _runs.Select(r => _metric is not null && r.Metrics.TryGetValue(_metric, out var m) && double.IsFinite(m.Value) ? (double?)m.Value : null).ToList();
        dimensions.Add(new Dimension { Label = _metric ?? "metric", Values = [.. metric.Cast<object?>()] });
        return
        [
            new ParCoords
            {
                Dimensions = dimensions,
                Line = new Plotly.Blazor.Traces.ParCoordsLib.Line { ColorArray = [.. metric.Select(v => (object)(v ?? double.NaN))], ColorScale = "Viridis", ShowScale = true },
            },
        ];
    }

    private IList<Plotly.Blazor.ITrace> Scatter() =>
        [Plots.Points(_runs.Select(r => Value(r, _scatterX)), _runs.Select(r => Value(r, _scatterY)), _runs.Select(r => r.Name))];

    private static object? Value(Run run, string? axis)
    {
        if (axis is null)
        {
            return null;
        }

        var key = axis[(axis.IndexOf('.', StringComparison.Ordinal) + 1)..];
        if (axis.StartsWith("metrics.", StringComparison.Ordinal))
        {
            return run.Metrics.TryGetValue(key, out var m) && double.IsFinite(m.Value) ? m.Value : null;
        }

        var text = run.Params.GetValueOrDefault(key);
        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) ? number : text;
    }

    private IEnumerable<DiffRow> DiffRows()
    {
        var shown = _runs.Take(MaxDiffColumns).ToList();
        foreach (var key in _paramKeys)
        {
            var values = shown.Select(r => r.Params.GetValueOrDefault(key) ?? "—").ToList();
            yield return new DiffRow($"params.{key}", values, values.Distinct(StringComparer.Ordinal).Count() > 1);
        }

        foreach (var key in _metricKeys)
        {
            var values = shown.Select(r => r.Metrics.TryGetValue(key, out var m) ? RunFormat.Number(m.Value) : "—").ToList();
            yield return new DiffRow($"metrics.{key}", values, values.Distinct(StringComparer.Ordinal).Count() > 1);
        }

        var status = shown.Select(r => Words.Of(r.Status)).ToList();
        yield return new DiffRow("status", status, status.Distinct(StringComparer.Ordinal).Count() > 1);
    }

    private sealed record DiffRow(string Key, IReadOnlyList<string> Values, bool Differs);
}
