using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;

namespace Portal.Components.Charts;

/// <summary>The few kinds of chart the portal draws, as Plotly.Blazor traces and layouts.</summary>
public static class Plots
{
    private static List<object> List<T>(IEnumerable<T> values) => values.Select(v => (object)v!).ToList();

    /// <summary>A metric by step. WebGL (scattergl) so a long series stays fast.</summary>
    public static ITrace Series(string name, IEnumerable<long> steps, IEnumerable<double?> values, bool markersOnly = false) => new ScatterGl
    {
        Name = name,
        X = List(steps),
        Y = List(values),
        Mode = markersOnly ? Plotly.Blazor.Traces.ScatterGlLib.ModeFlag.Markers : Plotly.Blazor.Traces.ScatterGlLib.ModeFlag.Lines,
        ConnectGaps = false,
    };

    public static ITrace Points(IEnumerable<object?> x, IEnumerable<object?> y, IEnumerable<string> text, decimal size = 9) => new Scatter
    {
        X = List(x),
        Y = List(y),
        TextArray = text.ToList(),
        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers,
        Marker = new Plotly.Blazor.Traces.ScatterLib.Marker { Size = size },
    };

    public static Bar Bars<TX, TY>(string? name, IEnumerable<TX> x, IEnumerable<TY> y, object? color = null) => new()
    {
        Name = name,
        X = List(x),
        Y = List(y),
        Marker = color is null ? null : new Plotly.Blazor.Traces.BarLib.Marker { Color = color },
    };

    public static Bar HorizontalBars<TX, TY>(string? name, IEnumerable<TX> x, IEnumerable<TY> y, object? color = null)
    {
        var bars = Bars(name, x, y, color);
        bars.Orientation = Plotly.Blazor.Traces.BarLib.OrientationEnum.H;
        return bars;
    }

    /// <summary>A layout with titled axes.</summary>
    public static Plotly.Blazor.Layout Axes(string? x = null, string? y = null, bool legend = true, Margin? margin = null) => new()
    {
        XAxis = [new XAxis { Title = x is null ? null : new Plotly.Blazor.LayoutLib.XAxisLib.Title { Text = x } }],
        YAxis = [new YAxis { Title = y is null ? null : new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = y } }],
        ShowLegend = legend,
        Margin = margin,
    };

    public static Margin Margin(decimal l, decimal r, decimal t, decimal b) => new() { L = l, R = r, T = t, B = b };

    /// <summary>Grouped bars with the legend laid out under the chart.</summary>
    public static Plotly.Blazor.Layout GroupedBars(string? x = null, string? y = null)
    {
        var layout = Axes(x, y, margin: Margin(50, 10, 10, 60));
        layout.BarMode = BarModeEnum.Group;
        layout.Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H }];
        return layout;
    }
}
