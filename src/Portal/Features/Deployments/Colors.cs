namespace Portal.Features.Deployments;

/// <summary>One colour per deployment, the same on bars and charts (Plotly's default sequence).</summary>
public static class Colors
{
    private static readonly string[] Sequence = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];

    public static string Of(int index) => Sequence[((index % Sequence.Length) + Sequence.Length) % Sequence.Length];
}
