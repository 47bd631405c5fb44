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
    public static (object Data, object Layout)? Distribution(ColumnProfile column)
    {
        if (column.Histogram is { } h)
        {
            return (new object[] { Bars(h, column.Type, column.Name, Current, 1) }, Axes(column.Type == ColumnType.Datetime ? "date" : "linear", "rows"));
        }

        if (column.TopValues.Count > 0)
        {
            var top = column.TopValues.Take(20).ToList();
            return (new object[] { new { type = "bar", orientation = "h", y = top.Select(t => t.Value).Reverse(), x = top.Select(t => t.Count).Reverse(), marker = new { color = Current }, name = column.Name } },
                new { margin = new { l = 120, r = 20, t = 10, b = 30 }, xaxis = new { title = new { text = "rows" } }, showlegend = false });
        }

        return null;
    }

    /// <summary>Two versions of a column over each other (numbers: histograms as shares; categories: shares per value).</summary>
    public static (object Data, object Layout)? Overlay(ColumnProfile before, ColumnProfile after, int a, int b)
    {
        if (before.Histogram is { } h1 && after.Histogram is { } h2 && before.Type == after.Type)
        {
            return (new object[] { Bars(h1, before.Type, $"v{a}", Reference, 1.0 / Math.Max(1, before.Count)), Bars(h2, after.Type, $"v{b}", Current, 1.0 / Math.Max(1, after.Count)) },
                new { barmode = "overlay", xaxis = new { type = before.Type == ColumnType.Datetime ? "date" : "linear" }, yaxis = new { title = new { text = "share of rows" }, tickformat = ".0%" }, legend = new { orientation = "h" } });
        }

        var values = before.TopValues.Select(t => t.Value).Union(after.TopValues.Select(t => t.Value)).Take(30).ToList();
        if (values.Count == 0)
        {
            return null;
        }

        double Share(ColumnProfile p, string v) => (p.TopValues.FirstOrDefault(t => t.Value == v)?.Count ?? 0) / (double)Math.Max(1, p.Count);
        return (new object[]
            {
                new { type = "bar", name = $"v{a}", x = values, y = values.Select(v => Share(before, v)), marker = new { color = Reference } },
                new { type = "bar", name = $"v{b}", x = values, y = values.Select(v => Share(after, v)), marker = new { color = Current } },
            },
            new { barmode = "group", yaxis = new { title = new { text = "share of rows" }, tickformat = ".0%" }, legend = new { orientation = "h" } });
    }

    /// <summary>PSI per column with the 0.1 and 0.25 thresholds drawn in.</summary>
    public static (object Data, object Layout) DriftBars(IReadOnlyList<ColumnDrift> drift)
    {
        var ordered = drift.OrderByDescending(d => d.Psi).ToList();
        var bars = new
        {
            type = "bar",
            x = ordered.Select(d => d.Column),
            y = ordered.Select(d => d.Psi),
            marker = new { color = ordered.Select(d => d.Psi >= DriftThresholds.SignificantPsi ? Severe : d.Psi >= DriftThresholds.ModeratePsi ? Moderate : Good) },
            text = ordered.Select(d => d.Verdict),
            hovertemplate = "%{x}: PSI %{y:.3f} (%{text})<extra></extra>",
        };
        var thresholds = new[] { DriftThresholds.ModeratePsi, DriftThresholds.SignificantPsi }.Select(t => new
        {
            type = "line", xref = "paper", x0 = 0, x1 = 1, y0 = t, y1 = t,
            line = new { dash = "dot", width = 1, color = t >= DriftThresholds.SignificantPsi ? Severe : Moderate },
        });
        return (new object[] { bars }, new
        {
            yaxis = new { title = new { text = "PSI" }, type = ordered.Any(d => d.Psi > 2) ? "log" : "linear" },
            shapes = thresholds,
            showlegend = false,
        });
    }

    /// <summary>Pearson correlations of the numeric columns as a heatmap from −1 to 1.</summary>
    public static (object Data, object Layout)? Correlations(DatasetProfile profile)
    {
        var names = profile.Correlations.SelectMany(c => new[] { c.A, c.B }).Distinct().ToList();
        if (names.Count < 2)
        {
            return null;
        }

        double R(string a, string b) => a == b ? 1 : profile.Correlations.FirstOrDefault(c => (c.A == a && c.B == b) || (c.A == b && c.B == a))?.R ?? 0;
        var z = names.Select(a => names.Select(b => Math.Round(R(a, b), 3)).ToArray()).ToArray();
        return (new object[] { new { type = "heatmap", x = names, y = names, z, zmin = -1, zmax = 1, colorscale = "RdBu", reversescale = true, hovertemplate = "%{y} × %{x}: %{z}<extra></extra>" } },
            new { margin = new { l = 110, r = 20, t = 10, b = 90 }, yaxis = new { autorange = "reversed" } });
    }

    private static object Bars(Histogram h, ColumnType type, string name, string color, double scale)
    {
        var mids = Enumerable.Range(0, h.Counts.Count).Select(i => (h.Edges[i] + h.Edges[i + 1]) / 2);
        var widths = Enumerable.Range(0, h.Counts.Count).Select(i => h.Edges[i + 1] - h.Edges[i]);
        if (type == ColumnType.Datetime)
        {
            // Plotly reads dates as text and bar widths in milliseconds.
            return new
            {
                type = "bar", name, x = mids.Select(DatasetValues.Date), width = widths.Select(w => w * 1000), y = h.Counts.Select(c => c * scale),
                marker = new { color, opacity = 0.75 },
            };
        }

        return new { type = "bar", name, x = mids, width = widths, y = h.Counts.Select(c => c * scale), marker = new { color, opacity = 0.75 } };
    }

    private static object Axes(string xType, string yTitle) => new
    {
        bargap = 0.02, showlegend = false, margin = new { l = 50, r = 10, t = 10, b = 40 },
        xaxis = new { type = xType }, yaxis = new { title = new { text = yTitle } },
    };
}
