using Portal.Domain.Lineage;
using Portal.Infrastructure.Lineage;

namespace Portal.Features.Lineage;

/// <summary>
/// Where each node of a lineage view is drawn: one column per distance from the focus (upstream to the
/// left, downstream to the right), nodes in a column ordered by kind and label; edges as curves.
/// </summary>
internal sealed record LineageLayout(IReadOnlyList<LineageLayout.Box> Boxes, IReadOnlyList<LineageLayout.Curve> Curves, double Width, double Height)
{
    public const double BoxWidth = 220;
    public const double BoxHeight = 46;
    private const double ColumnGap = 90;
    private const double RowGap = 22;
    private const double Margin = 20;

    public static LineageLayout Of(LineageView view)
    {
        ArgumentNullException.ThrowIfNull(view);
        var distance = view.Nodes.ToDictionary(n => n.Ref, n => view.Distance.TryGetValue(n.Ref, out var d) ? d : 0);
        var columns = view.Nodes.GroupBy(n => distance[n.Ref]).OrderBy(g => g.Key).ToList();
        var first = columns.Count == 0 ? 0 : columns[0].Key;
        var tallest = columns.Count == 0 ? 1 : columns.Max(c => c.Count());
        var height = (2 * Margin) + (tallest * (BoxHeight + RowGap)) - RowGap;
        var boxes = new List<Box>();
        foreach (var column in columns)
        {
            var nodes = column.OrderBy(n => n.Kind).ThenBy(n => n.Label, StringComparer.Ordinal).ToList();
            var x = Margin + ((column.Key - first) * (BoxWidth + ColumnGap));
            var top = (height - ((nodes.Count * (BoxHeight + RowGap)) - RowGap)) / 2;
            boxes.AddRange(nodes.Select((n, i) => new Box(n, x, top + (i * (BoxHeight + RowGap)), n.Ref == view.Root)));
        }

        var at = boxes.ToDictionary(b => b.Node.Ref);
        var curves = view.Edges.Where(e => at.ContainsKey(e.From) && at.ContainsKey(e.To)).Select(e =>
        {
            var (from, to) = (at[e.From], at[e.To]);
            var (x1, y1) = (from.X + BoxWidth, from.Y + (BoxHeight / 2));
            var (x2, y2) = (to.X, to.Y + (BoxHeight / 2));
            var bend = Math.Max(30, (x2 - x1) / 2);
            return new Curve(e, $"M{x1:0},{y1:0} C{x1 + bend:0},{y1:0} {x2 - bend:0},{y2:0} {x2:0},{y2:0}", (x1 + x2) / 2, (y1 + y2) / 2);
        }).ToList();
        var width = (2 * Margin) + (columns.Count * (BoxWidth + ColumnGap)) - ColumnGap;
        return new LineageLayout(boxes, curves, Math.Max(width, BoxWidth + (2 * Margin)), height);
    }

    /// <summary>Where clicking a node goes: a dataset version's page, or the lineage around anything else.</summary>
    public static string LinkOf(LineageNode node)
    {
        var reference = ArtifactRef.Parse(node.Ref);
        return reference.Kind == ArtifactKind.Dataset
            ? $"/datasets/{reference.Name}/versions/{reference.Version}"
            : $"/lineage?artifact={Uri.EscapeDataString(node.Ref)}";
    }

    public sealed record Box(LineageNode Node, double X, double Y, bool IsRoot);

    public sealed record Curve(LineageLink Link, string Path, double MidX, double MidY);
}
