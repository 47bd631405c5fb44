using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Portal.Components.Charts;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;

namespace Portal.Features.Datasets;

/// <summary>Plotly traces and layouts for dataset pages: what each chart shows, in one place.</summary>
internal static class DatasetCharts
{
    public const string Reference = "#8a8f98";
    public const string Current = "#1151f3";
    private const string Good = "#2e7d32";
    private const string Moderate = "#ed6c02";
    private const string Severe = "#d32f2f";

    /// <summary>A column's distribution: histogram bars for numbers and dates, top values for the rest.</summary>
    public static (IList<ITrace> Data, Layout Layout)? Distribution(ColumnProfile column)
    {
        if (column.Histogram is { } h)
        {
            return ([Bars(h, column.Type, column.Name, Current, 1)], Axes(column.Type == ColumnType.Datetime ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Date : Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Linear, "rows"));
        }

        if (column.TopValues.Count > 0)
        {
            var top = column.TopValues.Take(20).Reverse().ToList();
            return ([Plots.HorizontalBars(column.Name, top.Select(t => t.Count), top.Select(t => t.Value), Current)],
                Plots.Axes("rows", legend: false, margin: Plots.Margin(120, 20, 10, 30)));
        }

        return null;
    }

    /// <summary>Two versions of a column over each other (numbers: histograms as shares; categories: shares per value).</summary>
    public static (IList<ITrace> Data, Layout Layout)? Overlay(ColumnProfile before, ColumnProfile after, int a, int b)
    {
        if (before.Histogram is { } h1 && after.Histogram is { } h2 && before.Type == after.Type)
        {
            var layout = Shares(Plotly.Blazor.LayoutLib.BarModeEnum.Overlay);
            layout.XAxis[0].Type = before.Type == ColumnType.Datetime ? Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Date : Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Linear;
            return ([Bars(h1, before.Type, $"v{a}", Reference, 1.0 / Math.Max(1, before.Count)), Bars(h2, after.Type, $"v{b}", Current, 1.0 / Math.Max(1, after.Count))], layout);
        }

        var values = before.TopValues.Select(t => t.Value).Union(after.TopValues.Select(t => t.Value)).Take(30).ToList();
        if (values.Count == 0)
        {
            return null;
        }

        double Share(ColumnProfile p, string v) => (p.TopValues.FirstOrDefault(t => t.Value == v)?.Count ?? 0) / (double)Math.Max(1, p.Count);
        return ([Plots.Bars($"v{a}", values, values.Select(v => Share(before, v)), Reference), Plots.Bars($"v{b}", values, values.Select(v => Share(after, v)), Current)],
            Shares(Plotly.Blazor.LayoutLib.BarModeEnum.Group));
    }

    /// <summary>PSI per column with the 0.1 and 0.25 thresholds drawn in.</summary>
    public static (IList<ITrace> Data, Layout Layout) DriftBars(IReadOnlyList<ColumnDrift> drift)
    {
        var ordered = drift.OrderByDescending(d => d.Psi).ToList();
        var bars = Plots.Bars(null, ordered.Select(d => d.Column), ordered.Select(d => d.Psi));
        bars.Marker = new Plotly.Blazor.Traces.BarLib.Marker
        {
            ColorArray = [.. ordered.Select(d => (object)(d.Psi >= DriftThresholds.SignificantPsi ? Severe : d.Psi >= DriftThresholds.ModeratePsi ? Moderate : Good))],
        };
        bars.TextArray = [.. ordered.Select(d => d.Verdict)];
        bars.HoverTemplate = "%{x}: PSI %{y:.3f} (%{text})<extra></extra>";
        var layout = Plots.Axes(y: "PSI", legend: false);
        layout.YAxis[0].Type = ordered.Any(d => d.Psi > 2) ? Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Log : Plotly.Blazor.LayoutLib.YAxisLib.TypeEnum.Linear;
        layout.Shapes = [.. new[] { DriftThresholds.ModeratePsi, DriftThresholds.SignificantPsi }.Select(t => new Shape
        {
            Type = Plotly.Blazor.LayoutLib.ShapeLib.TypeEnum.Line, XRef = "paper", X0 = 0, X1 = 1, Y0 = t, Y1 = t,
            Line = new Plotly.Blazor.LayoutLib.ShapeLib.Line { Dash = "dot", Width = 1, Color = t >= DriftThresholds.SignificantPsi ? Severe : Moderate },
        })];
        return ([bars], layout);
    }

    /// <summary>Pearson correlations of the numeric columns as a heatmap from −1 to 1.</summary>
    public static (IList<ITrace> Data, Layout Layout)? Correlations(DatasetProfile profile)
    {
        var names = profile.Correlations.SelectMany(c => new[] { c.A, c.B }).Distinct().ToList();
        if (names.Count < 2)
        {
            return null;
        }

        double R(string a, string b) => a == b ? 1 : profile.Correlations.FirstOrDefault(c => (c.A == a && c.B == b) || (c.A == b && c.B == a))?.R ?? 0;
        var heat = new HeatMap
        {
            X = [.. names],
            Y = [.. names],
            Z = [.. names.Select(a => (object)names.Select(b => Math.Round(R(a, b), 3)).ToArray())],
            ZMin = -1,
            ZMax = 1,
            ColorScale = "RdBu",
            ReverseScale = true,
            HoverTemplate = "%{y} × %{x}: %{z}<extra></extra>",
        };
        var layout = Plots.Axes(legend: false, margin: Plots.Margin(110, 20, 10, 90));
        layout.YAxis[0].AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed;
        return ([heat], layout);
    }

    private static Bar Bars(Portal.Domain.Datasets.Histogram h, ColumnType type, string name, string color, double scale)
    {
        var mids = Enumerable.Range(0, h.Counts.Count).Select(i => (h.Edges[i] + h.Edges[i + 1]) / 2);
        var widths = Enumerable.Range(0, h.Counts.Count).Select(i => h.Edges[i + 1] - h.Edges[i]);
        // Plotly reads dates as text and bar widths in milliseconds.
        var bars = type == ColumnType.Datetime
            ? Plots.Bars(name, mids.Select(DatasetValues.Date), h.Counts.Select(c => c * scale))
            : Plots.Bars(name, mids, h.Counts.Select(c => c * scale));
        bars.WidthArray = [.. widths.Select(w => (decimal?)(decimal)(type == ColumnType.Datetime ? w * 1000 : w))];
        bars.Marker = new Plotly.Blazor.Traces.BarLib.Marker { Color = color, Opacity = 0.75m };
        return bars;
    }

    private static Layout Axes(Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum xType, string yTitle)
    {
        var layout = Plots.Axes(y: yTitle, legend: false, margin: Plots.Margin(50, 10, 10, 40));
        layout.BarGap = 0.02m;
        layout.XAxis[0].Type = xType;
        return layout;
    }

    private static Layout Shares(Plotly.Blazor.LayoutLib.BarModeEnum mode)
    {
        var layout = Plots.Axes(y: "share of rows");
        layout.YAxis[0].TickFormat = ".0%";
        layout.BarMode = mode;
        layout.Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H }];
        return layout;
    }
}
