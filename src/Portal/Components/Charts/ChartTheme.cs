using System.Globalization;
using System.Text.Json;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;

namespace Portal.Components.Charts;

/// <summary>The portal's colours on a chart's layout, and what decides whether a chart must be redrawn.</summary>
internal static class ChartTheme
{
    private const string LightText = "#1f2329";
    private const string DarkText = "#e6e8ec";
    private const string LightGrid = "rgba(0,0,0,0.12)";
    private const string DarkGrid = "rgba(255,255,255,0.16)";

    public static Plotly.Blazor.Layout Apply(Plotly.Blazor.Layout layout, bool dark)
    {
        layout.PaperBgColor ??= "rgba(0,0,0,0)";
        layout.PlotBgColor ??= "rgba(0,0,0,0)";
        layout.AutoSize ??= true;
        layout.Margin ??= new Margin { L = 50, R = 20, T = 30, B = 40 };
        layout.Font ??= new Font();
        layout.Font.Color ??= dark ? DarkText : LightText;
        var grid = dark ? DarkGrid : LightGrid;
        layout.XAxis ??= [new XAxis()];
        layout.YAxis ??= [new YAxis()];
        foreach (var axis in layout.XAxis)
        {
            axis.GridColor ??= grid;
            axis.ZeroLineColor ??= grid;
        }

        foreach (var axis in layout.YAxis)
        {
            axis.GridColor ??= grid;
            axis.ZeroLineColor ??= grid;
        }

        return layout;
    }

    /// <summary>Traces and layout as JSON: equal text means nothing to redraw.</summary>
    public static string Signature(IList<ITrace> data, Plotly.Blazor.Layout layout) =>
        JsonSerializer.Serialize(data.Select(t => (object)t)) + JsonSerializer.Serialize(layout);

    public static double? Number(object? value) => value switch
    {
        JsonElement { ValueKind: JsonValueKind.Number } n => n.GetDouble(),
        JsonElement { ValueKind: JsonValueKind.String } s when double.TryParse(s.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
        double d => d,
        _ => null,
    };
}
