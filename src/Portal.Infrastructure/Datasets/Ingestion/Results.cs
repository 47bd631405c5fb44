using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>Turns the accumulators of a finished pass into the version's schema, profile, report and preview.</summary>
internal static class Results
{
    private const int DisplayBins = 40;

    public static IngestedFile Build(ColumnSet set, DatasetFormat format, DataContract? contract, DriftReference? reference)
    {
        foreach (var column in set.Columns)
        {
            column.Finish();
        }

        var types = set.Columns.ToDictionary(c => c, c => c.InferredType());
        var schema = set.Columns.Select(c => new ColumnSchema(c.Name, types[c], c.MissingCount > 0)).ToList();
        var pii = set.Columns.Select(c => c.PiiFinding()).OfType<PiiFinding>().ToList();
        var hidden = set.Columns.Where(c => c.Sensitive || pii.Any(p => p.Column == c.Name)).Select(c => c.Name).ToHashSet();

        var profile = new DatasetProfile(
            set.Rows,
            set.Columns.Select(c => Profile(c, types[c], hidden.Contains(c.Name))).ToList(),
            set.Correlations?.Results(c => types[c].IsNumeric()).Select(r => new Correlation(r.A, r.B, Math.Round(r.R, 4))).ToList() ?? []);

        var failures = new List<ValidationFailure>();
        if (contract is not null)
        {
            failures.AddRange(SchemaFailures(set, contract));
        }

        foreach (var column in set.Columns)
        {
            failures.AddRange(RuleFailures(column, contract?.Column(column.Name)));
        }

        var drift = new List<ColumnDrift>();
        var correlationChanges = new List<CorrelationChange>();
        if (reference is not null)
        {
            // Keys (unique ids) carry no distribution worth comparing: each extract has new ones.
            foreach (var column in set.Columns.Where(c => !c.TracksKeys))
            {
                if (reference.Profile.Column(column.Name) is { } before)
                {
                    var (columnDrift, driftFailures) = DriftAnalysis.Compare(column, types[column], before, reference.Version);
                    if (columnDrift is not null)
                    {
                        drift.Add(columnDrift);
                    }

                    failures.AddRange(driftFailures);
                }
            }

            correlationChanges = DriftAnalysis.CorrelationChanges(profile.Correlations, reference.Profile.Correlations);
            failures.AddRange(correlationChanges.Select(c => new ValidationFailure($"{c.A} × {c.B}", ValidationRules.Correlation,
                $"The correlation of {c.A} and {c.B} moved from {c.Before:0.00} to {c.After:0.00} against version {reference.Version}.",
                1, Severity.Warning, [])));
        }

        // Personal data found in this pass is masked in the report as it is in the preview (contract-sensitive columns were masked as read).
        failures = [.. failures.Select(f => hidden.Contains(f.Column) && f.Examples.Count > 0 ? f with { Examples = PersonalData.MaskExamples(f.Examples) } : f)];
        var report = new ValidationReport(failures, contract?.Version, reference?.Version, drift, correlationChanges);
        var preview = set.Preview.Select(row => (IReadOnlyList<string?>)Enumerable.Range(0, set.Columns.Count)
            .Select(i => i < row.Length ? (hidden.Contains(set.Columns[i].Name) && row[i] is not null ? RuleCounter.Mask : row[i]) : null)
            .ToList()).ToList();
        return new IngestedFile(format, set.Rows, schema, profile, report, pii, preview, ProposeContract(set, types, pii));
    }

    private static ColumnProfile Profile(ColumnAccumulator c, ColumnType type, bool hidden)
    {
        var distinct = c.DistinctCount;
        var exact = !c.Values.Overflowed;
        IReadOnlyList<ValueCount> top = hidden ? [] : type switch
        {
            ColumnType.Boolean => [new ValueCount("true", c.BooleanCounts.True), new ValueCount("false", c.BooleanCounts.False)],
            ColumnType.Float => [],
            _ => c.Values.Overflowed ? [] : c.Values.Top(type == ColumnType.Categorical ? 1000 : ColumnAccumulator.TopValueCount)
                .Select(v => new ValueCount(v.Value, v.Count)).ToList(),
        };

        var histogram = type switch
        {
            ColumnType.Integer or ColumnType.Float => c.Numbers,
            ColumnType.Datetime => c.Dates,
            _ => null,
        };
        if (histogram is null || histogram.Count == 0 || hidden)
        {
            return new ColumnProfile(c.Name, type, c.Present, c.MissingCount, distinct, exact, null, null, null, null, null, top, null);
        }

        var (mean, std) = type == ColumnType.Datetime ? (histogram.Quantile(0.5), double.NaN) : c.Moments;
        var quantiles = Enumerable.Range(0, 101).Select(k => Round(histogram.Quantile(k / 100.0))).ToList();
        quantiles[0] = histogram.Min;
        quantiles[100] = histogram.Max;
        return new ColumnProfile(c.Name, type, c.Present, c.MissingCount, distinct, exact,
            histogram.Min, histogram.Max,
            type == ColumnType.Datetime ? null : Round(mean), type == ColumnType.Datetime ? null : Round(std),
            quantiles, top, DisplayHistogram(histogram, type == ColumnType.Integer));
    }

    /// <summary>Equal-width bins from min to max (one per value for small integer ranges), filled from the fine bins.</summary>
    private static Histogram DisplayHistogram(AdaptiveHistogram fine, bool integers)
    {
        var (min, max) = (fine.Min, fine.Max);
        int bins;
        double lo, width;
        if (integers && max - min < DisplayBins)
        {
            bins = (int)(max - min) + 1;
            lo = min - 0.5;
            width = 1;
        }
        else
        {
            bins = max > min ? DisplayBins : 1;
            lo = min;
            width = max > min ? (max - min) / bins : 1;
        }

        var counts = new long[bins];
        foreach (var (binLo, binHi, count) in fine.NonEmptyBins())
        {
            var middle = (binLo + binHi) / 2;
            counts[Math.Clamp((int)((middle - lo) / width), 0, bins - 1)] += count;
        }

        var edges = Enumerable.Range(0, bins + 1).Select(i => Round(lo + (i * width))).ToList();
        return new Histogram(edges, counts);
    }

    private static IEnumerable<ValidationFailure> SchemaFailures(ColumnSet set, DataContract contract)
    {
        foreach (var expected in contract.Columns.Where(c => !set.TryGetColumn(c.Name, out _)))
        {
            yield return new ValidationFailure(expected.Name, ValidationRules.Schema,
                $"The contract (version {contract.Version}) requires column '{expected.Name}', which the file does not have.", 1, Severity.Error, []);
        }

        foreach (var extra in set.Columns.Where(c => contract.Column(c.Name) is null))
        {
            yield return new ValidationFailure(extra.Name, ValidationRules.Schema,
                $"Column '{extra.Name}' is not in the contract (version {contract.Version}); add it to the contract if it is meant to stay.", 1, Severity.Warning, []);
        }
    }

    private static IEnumerable<ValidationFailure> RuleFailures(ColumnAccumulator c, ContractColumn? rule)
    {
        if (rule is not null)
        {
            if (c.Missing.Count > 0)
            {
                yield return Failure(c, ValidationRules.Missing, c.Missing, $"{c.Missing.Count} missing value(s) in a column the contract says always has one.");
            }

            if (c.TypeErrors.Count > 0)
            {
                yield return Failure(c, ValidationRules.Type, c.TypeErrors, $"{c.TypeErrors.Count} value(s) are not {Article(rule.Type)} {rule.Type.Name()}.");
            }

            if (c.RangeErrors.Count > 0)
            {
                yield return Failure(c, ValidationRules.Range, c.RangeErrors,
                    $"{c.RangeErrors.Count} value(s) are outside the allowed range [{rule.Min?.ToString() ?? "−∞"}, {rule.Max?.ToString() ?? "∞"}].");
            }

            if (c.CategoryErrors.Count > 0)
            {
                yield return Failure(c, ValidationRules.Category, c.CategoryErrors, $"{c.CategoryErrors.Count} value(s) are not among the allowed values.");
            }
        }

        if (c.Duplicates.Count > 0 && rule?.Unique == true)
        {
            yield return Failure(c, ValidationRules.Duplicate, c.Duplicates, $"{c.Duplicates.Count} value(s) repeat an earlier value in a column the contract says is unique.");
        }

        if (c.Formulas.Count > 0)
        {
            yield return new ValidationFailure(c.Name, ValidationRules.Formula,
                $"{c.Formulas.Count} cell(s) start like a spreadsheet formula (=, +, -, @); the portal's exports neutralise them, other tools may not.",
                c.Formulas.Count, Severity.Warning, c.Formulas.Examples);
        }
    }

    private static ValidationFailure Failure(ColumnAccumulator c, string rule, RuleCounter counter, string detail) =>
        new(c.Name, rule, detail, counter.Count, Severity.Error, counter.Examples);

    /// <summary>
    /// A first contract from the first version: types and nullability as found, the categories seen as the
    /// allowed values, keys without duplicates as unique, and personal-data columns as sensitive.
    /// </summary>
    private static List<ContractColumn> ProposeContract(ColumnSet set, Dictionary<ColumnAccumulator, ColumnType> types, List<PiiFinding> pii) =>
        set.Columns.Select(c => new ContractColumn(
            c.Name,
            types[c],
            c.MissingCount > 0,
            Allowed: types[c] == ColumnType.Categorical ? c.Values.All.Select(v => v.Value).Order(StringComparer.Ordinal).ToList() : null,
            Unique: c.TracksKeys && c.Duplicates.Count == 0 && c.MissingCount == 0,
            Sensitive: pii.Any(p => p.Column == c.Name))).ToList();

    private static string Article(ColumnType type) => type is ColumnType.Integer ? "an" : "a";

    private static double Round(double value) => double.IsFinite(value) ? Math.Round(value, 6) : value;
}
