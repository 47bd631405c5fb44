using System.Globalization;
using Plotly.Blazor;
using Plotly.Blazor.LayoutLib;
using Plotly.Blazor.Traces;
using Portal.Infrastructure.Serving;

namespace Portal.Features.Deployments;

/// <summary>One deployment's live series, as the endpoint page charts them.</summary>
public sealed record DeploymentSeries(string Name, int Index, int ConfiguredPercent, IReadOnlyList<(DateTime At, StatsSummary Stats)> Points);

/// <summary>The endpoint page's Plotly charts: rate, latency (whole, model, gateway), errors by status, served against configured, drift.</summary>
public static class ServingCharts
{
    private static List<object> Times(DeploymentSeries s) => [.. s.Points.Select(p => (object)p.At.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))];

    private static List<object> Values(DeploymentSeries s, Func<StatsSummary, double?> value) => [.. s.Points.Select(p => (object?)Round(value(p.Stats))!)];

    private static double? Round(double? value) => value is { } v && double.IsFinite(v) ? Math.Round(v, 3) : null;

    private static Scatter Line(DeploymentSeries s, Func<StatsSummary, double?> value, string name, string? dash = null) => new()
    {
        Name = name,
        X = Times(s),
        Y = Values(s, value),
        Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
        ConnectGaps = false,
        Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = Colors.Of(s.Index), Dash = dash },
    };

    public static IList<ITrace> Rate(IReadOnlyList<DeploymentSeries> series) =>
        [.. series.Select(s => (ITrace)Line(s, p => p.RequestsPerSecond, s.Name))];

    /// <summary>p50 (solid), p95 (dashed) and p99 (dotted) of the whole request, per deployment.</summary>
    public static IList<ITrace> Latency(IReadOnlyList<DeploymentSeries> series) =>
        [.. series.SelectMany(s => new ITrace[]
        {
            Line(s, p => p.P50Ms, $"{s.Name} p50"),
            Line(s, p => p.P95Ms, $"{s.Name} p95", "dash"),
            Line(s, p => p.P99Ms, $"{s.Name} p99", "dot"),
        })];

    /// <summary>Where the time goes: the model's p95 (solid) and the gateway's own p95 (dotted).</summary>
    public static IList<ITrace> Split(IReadOnlyList<DeploymentSeries> series) =>
        [.. series.SelectMany(s => new ITrace[]
        {
            Line(s, p => p.ModelP95Ms, $"{s.Name} model p95"),
            Line(s, p => p.GatewayP95Ms, $"{s.Name} gateway p95", "dot"),
        })];

    /// <summary>Answers that were not 200, by status, all deployments together, stacked.</summary>
    public static IList<ITrace> Errors(IReadOnlyList<DeploymentSeries> series)
    {
        var times = series.SelectMany(s => s.Points.Select(p => p.At)).Distinct().Order().ToList();
        var statuses = series.SelectMany(s => s.Points.SelectMany(p => p.Stats.ByStatus.Keys)).Where(s => s != 200).Distinct().Order().ToList();
        return [.. statuses.Select(status => (ITrace)new Bar
        {
            Name = status.ToString(CultureInfo.InvariantCulture),
            X = [.. times.Select(t => (object)t.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))],
            Y = [.. times.Select(t => (object)series.Sum(s => s.Points.Where(p => p.At == t).Sum(p => p.Stats.ByStatus.GetValueOrDefault(status))))],
        })];
    }

    /// <summary>The configured split beside the share of requests each deployment really answered.</summary>
    public static IList<ITrace> Served(IReadOnlyList<DeploymentSeries> series)
    {
        var total = Math.Max(1, series.Sum(s => s.Points.Sum(p => p.Stats.Requests)));
        var names = series.Select(s => (object)s.Name).ToList();
        return
        [
            Plots.Bars("configured %", names, series.Select(s => s.ConfiguredPercent), "#9e9e9e"),
            Plots.Bars("served %", names, series.Select(s => Math.Round(100.0 * s.Points.Sum(p => p.Stats.Requests) / total, 1)), "#1f77b4"),
        ];
    }

    /// <summary>Each feature's drift score per deployment, with the threshold as a line.</summary>
    public static IList<ITrace> Drift(IReadOnlyList<(string Deployment, int Index, DriftReport Report)> reports)
    {
        var features = reports.SelectMany(r => r.Report.Features.Select(f => f.Feature)).Distinct().ToList();
        var traces = new List<ITrace>();
        foreach (var (deployment, index, report) in reports)
        {
            traces.Add(Plots.Bars(deployment, features, features.Select(f => report.Features.FirstOrDefault(x => x.Feature == f)?.Score ?? 0), Colors.Of(index)));
        }

        if (reports.Count > 0 && features.Count > 0)
        {
            traces.Add(new Scatter
            {
                Name = "threshold",
                X = [.. features.Select(f => (object)f)],
                Y = [.. features.Select(_ => (object)reports[0].Report.Threshold)],
                Mode = Plotly.Blazor.Traces.ScatterLib.ModeFlag.Lines,
                Line = new Plotly.Blazor.Traces.ScatterLib.Line { Color = "#d62728", Dash = "dash" },
            });
        }

        return traces;
    }

    public static Plotly.Blazor.Layout Time(string y, bool stacked = false)
    {
        var layout = Plots.Axes(null, y, margin: Plots.Margin(55, 10, 10, 40));
        layout.XAxis![0].Type = Plotly.Blazor.LayoutLib.XAxisLib.TypeEnum.Date;
        layout.Legend = [new Legend { Orientation = Plotly.Blazor.LayoutLib.LegendLib.OrientationEnum.H }];
        if (stacked)
        {
            layout.BarMode = BarModeEnum.Stack;
        }

        return layout;
    }
}
