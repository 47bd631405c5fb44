namespace Portal.Domain.Datasets;

/// <summary>Statistics of one dataset version, computed in the pass that stored it.</summary>
public sealed record DatasetProfile(long Rows, IReadOnlyList<ColumnProfile> Columns, IReadOnlyList<Correlation> Correlations)
{
    public ColumnProfile? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);
}

/// <summary>
/// One column's statistics. Numbers (and dates, as Unix seconds) have min/max/mean/std, 101 quantiles
/// (0th to 100th percentile) and a histogram; text has its most frequent values. Distinct counts above
/// <see cref="ExactDistinctLimit"/> are estimates.
/// </summary>
public sealed record ColumnProfile(
    string Name,
    ColumnType Type,
    long Count,
    long Missing,
    long Distinct,
    bool DistinctIsExact,
    double? Min,
    double? Max,
    double? Mean,
    double? Std,
    IReadOnlyList<double>? Quantiles,
    IReadOnlyList<ValueCount> TopValues,
    Histogram? Histogram)
{
    public const int ExactDistinctLimit = 10_000;

    public double? Quantile(double p) =>
        Quantiles is { Count: 101 } q ? q[(int)Math.Round(Math.Clamp(p, 0, 1) * 100)] : null;
}

public sealed record ValueCount(string Value, long Count);

/// <summary>Counts per bin; bin i covers [Edges[i], Edges[i+1]) and the last bin includes its upper edge.</summary>
public sealed record Histogram(IReadOnlyList<double> Edges, IReadOnlyList<long> Counts);

/// <summary>Pearson correlation of two numeric columns over the rows where both have a value.</summary>
public sealed record Correlation(string A, string B, double R);
