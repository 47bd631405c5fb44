using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;

namespace Portal.Infrastructure.Datasets;

/// <summary>How two versions of a dataset differ: columns added, removed or retyped, and how each shared column's distribution moved.</summary>
public sealed record DatasetComparison(
    IReadOnlyList<(string Column, ColumnType? Before, ColumnType? After)> Schema,
    IReadOnlyList<ColumnDrift> Drift,
    IReadOnlyList<CorrelationChange> CorrelationChanges)
{
    public static DatasetComparison Of(DatasetVersion before, DatasetVersion after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var names = before.Schema.Select(c => c.Name).Union(after.Schema.Select(c => c.Name)).ToList();
        var schema = names.Select(n => (n, before.Schema.FirstOrDefault(c => c.Name == n)?.Type, after.Schema.FirstOrDefault(c => c.Name == n)?.Type)).ToList();
        var drift = names
            .Where(n => !ColumnSet.LooksLikeKey(n))
            .Select(n => before.Profile.Column(n) is { } a && after.Profile.Column(n) is { } b ? DriftAnalysis.CompareProfiles(a, b) : null)
            .OfType<ColumnDrift>()
            .ToList();
        return new DatasetComparison(schema, drift, DriftAnalysis.CorrelationChanges(after.Profile.Correlations, before.Profile.Correlations));
    }
}
