using System.Globalization;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Portal.Components.Charts;
using Portal.Infrastructure.Compute;

namespace Portal.Features.Compute;

/// <summary>The Compute &amp; GPU and Cost pages' Plotly charts.</summary>
public static class ComputeCharts
{
    public static string Time(DateTime at) => at.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    /// <summary>Busy % per device (rows) and time (columns); gaps stay blank, never zero.</summary>
    public static IList<ITrace> Heatmap(Heatmap map) =>
    [
        new HeatMap
        {
            Name = "busy %",
            X = [.. map.Buckets.Select(b => (object)Time(b))],
            Y = [.. map.Devices.Select(d => (object)d.Label)],
            Z = [.. map.Busy.Select(row => (object)row.Select(v => (object?)v).ToList())],
            ZMin = 0,
            ZMax = 100,
            ColorScale = "Viridis",
            HoverOnGaps = false,
            XGap = 1,
            YGap = 1,
        },
    ];

    public static Plotly.Blazor.Layout HeatmapLayout(int devices)
    {
        var layout = Plots.Axes(null, null, legend: false, margin: Plots.Margin(110, 10, 10, 40));
        layout.YAxis![0].AutoRange = Plotly.Blazor.LayoutLib.YAxisLib.AutoRangeEnum.Reversed;
        layout.YAxis[0].NTicks = Math.Min(devices, 64);
        return layout;
    }

    /// <summary>One device: busy % and memory used % on the left axis, power (W) on the right.</summary>
    public static IList<ITrace> Timeline(DeviceTimeline timeline)
    {
        var x = timeline.Buckets.Select(b => (object)Time(b)).ToList();
        var total = timeline.Device.MemoryTotalMiB is > 0 ? timeline.Device.MemoryTotalMiB.Value : (double?)null;
        return
        [
            Line("busy %", x, timeline.Busy, "#1f77b4"),
            Line("memory used %", x, timeline.MemoryMiB.Select(m => m is { } v && total is { } t ? Math.Round(v / t * 100, 1) : (double?)null), "#2ca02c"),
            new Scatter
            {
                Name = "power W", X = x, Y = [.. timeline.PowerW.Select(p => (object?)p)!], YAxis = "y2", ConnectGaps = false,
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = "#ff7f0e", Dash = "dot" },
            },
        ];
    }

    public static Plotly.Blazor.Layout TimelineLayout()
    {
        var layout = Plots.Axes(null, "%", margin: Plots.Margin(50, 50, 10, 40));
        layout.YAxis![0].Range = [0, 100];
        layout.YAxis.Add(new YAxis { Title = new Plotly.Blazor.LayoutLib.YAxisLib.Title { Text = "W" }, Overlaying = "y", Side = Plotly.Blazor.LayoutLib.YAxisLib.SideEnum.Right, ShowGrid = false });
        layout.Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H }];
        return layout;
    }

    /// <summary>Busy GPU time ÷ allocated GPU time per group, 0–100 %; groups with no GPU time are left out.</summary>
    public static IList<ITrace> Efficiency(IEnumerable<CostRow> rows)
    {
        var withGpu = rows.Where(r => r.Efficiency is not null).ToList();
        return [Plots.Bars("efficiency %", withGpu.Select(r => r.Key), withGpu.Select(r => Math.Round(r.Efficiency!.Value * 100, 1)), "#2ca02c")];
    }

    /// <summary>Cost per bucket, stacked by group.</summary>
    public static IList<ITrace> CostOverTime(CostSeries series)
    {
        var x = series.Buckets.Select(b => (object)Time(b)).ToList();
        return [.. series.Keys.Select(k => (ITrace)new Bar { Name = k.Key, X = x, Y = [.. k.Costs.Select(c => (object)Math.Round(c, 2))] })];
    }

    public static Plotly.Blazor.Layout Stacked(string currency)
    {
        var layout = Plots.Axes(null, currency, margin: Plots.Margin(60, 10, 10, 60));
        layout.BarMode = BarModeEnum.Stack;
        layout.Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H }];
        return layout;
    }

    /// <summary>
    /// A budget's month: cumulative spending by day, the budget as a line, and the forecast from today to the
    /// month's end with its 95 % range as a band.
    /// </summary>
    public static IList<ITrace> BurnDown(BudgetStatus status, DateTime now)
    {
        var month = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var days = DateTime.DaysInMonth(now.Year, now.Month);
        var end = month.AddDays(days);
        var cumulative = new List<object>();
        decimal sum = 0;
        foreach (var day in status.DailyCosts)
        {
            sum += day;
            cumulative.Add(Math.Round(sum, 2));
        }

        var spentX = status.DailyCosts.Select((_, i) => (object)Time(i == status.DailyCosts.Count - 1 ? now : month.AddDays(i + 1))).ToList();
        var f = status.Forecast;
        object[] forecastX = [Time(now), Time(end)];
        return
        [
            new Scatter { Name = "spent", X = spentX, Y = cumulative, Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines | Plotly.Blazor.Traces.ScatterLib.ModeFlag.Markers, Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = "#1f77b4" } },
            new Scatter { Name = "budget", X = [Time(month), Time(end)], Y = [status.Budget.MonthlyAmount, status.Budget.MonthlyAmount], Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = "#d62728", Dash = "dash" } },
            new Scatter { Name = "forecast low", X = forecastX, Y = [Math.Round(f.Spent, 2), Math.Round(f.Low, 2)], Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, Line = new Plotly.Blazor.Traces.ScatterLib.Line { Width = 0, Color = "#ff7f0e" }, ShowLegend = false },
            new Scatter { Name = "forecast (95 % range)", X = forecastX, Y = [Math.Round(f.Spent, 2), Math.Round(f.High, 2)], Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, Fill = Plotly.Blazor.Traces.ScatterLib.FillEnum.ToNextY, FillColor = "rgba(255,127,14,0.2)", Line = new Plotly.Blazor.Traces.ScatterLib.Line { Width = 0, Color = "#ff7f0e" } },
            new Scatter { Name = "forecast", X = forecastX, Y = [Math.Round(f.Spent, 2), Math.Round(f.Projected, 2)], Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines, Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = "#ff7f0e", Dash = "dot" } },
        ];
    }

    private static Scatter Line(string name, List<object> x, IEnumerable<double?> y, string color) => new()
    {
        Name = name,
        X = x,
        Y = [.. y.Select(v => (object?)v)!],
        ConnectGaps = false,
        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
        Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = color },
    };
}
