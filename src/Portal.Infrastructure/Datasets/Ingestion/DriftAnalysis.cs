using MathNet.Numerics.Distributions;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Compares a column of the new version with the same column of the previous version's profile.
/// Numbers: PSI over the reference's deciles, a two-sample Kolmogorov–Smirnov test, and the share of
/// values outside the reference's 1st–99th percentile range. Categories: PSI over the reference's
/// categories and a chi-square test. Thresholds follow common practice for PSI (0.1 moderate, 0.25
/// significant).
/// </summary>
internal static class DriftAnalysis
{
    public const double ModeratePsi = DriftThresholds.ModeratePsi;
    public const double SignificantPsi = DriftThresholds.SignificantPsi;
    public const double ModerateOutOfRange = DriftThresholds.ModerateOutOfRange;
    public const double SevereOutOfRange = DriftThresholds.SevereOutOfRange;
    public const double CorrelationShift = DriftThresholds.CorrelationShift;
    private const double Floor = 1e-4;

    public static (ColumnDrift? Drift, List<ValidationFailure> Failures) Compare(
        ColumnAccumulator current, ColumnType currentType, ColumnProfile reference, int referenceVersion)
    {
        var failures = new List<ValidationFailure>();
        if (IsOrdered(currentType) && IsOrdered(reference.Type) && (currentType == ColumnType.Datetime) == (reference.Type == ColumnType.Datetime))
        {
            var histogram = currentType == ColumnType.Datetime ? current.Dates : current.Numbers;
            if (histogram.Count == 0 || reference.Quantiles is not { Count: 101 } q)
            {
                return (null, failures);
            }

            var n = (double)histogram.Count;
            var drift = Numeric(current.Name, x => Math.Clamp(histogram.CountBelow(x) / n, 0, 1), histogram.Count, q, reference.Count);
            failures.AddRange(Judge(drift, referenceVersion));
            return (drift, failures);
        }

        // Categories only when the reference lists every value it had (its counts add up to its rows).
        if (IsCategorical(currentType) && IsCategorical(reference.Type) && !current.Values.Overflowed && reference.TopValues.Count > 0
            && reference.DistinctIsExact && reference.TopValues.Sum(v => v.Count) == reference.Count)
        {
            var drift = Categorical(current.Name, currentType == ColumnType.Boolean ? BooleanCounts(current) : current.Values.All, reference);
            failures.AddRange(Judge(drift, referenceVersion));
            return (drift, failures);
        }

        if (currentType != reference.Type)
        {
            failures.Add(new ValidationFailure(current.Name, ValidationRules.Drift,
                $"The column was {reference.Type.Name()} in version {referenceVersion} and is {currentType.Name()} now.", 1, Severity.Warning, []));
        }

        return (null, failures);
    }

    public static List<CorrelationChange> CorrelationChanges(IReadOnlyList<Correlation> now, IReadOnlyList<Correlation> before) =>
        now.Select(c => (Now: c, Before: before.FirstOrDefault(b => (b.A == c.A && b.B == c.B) || (b.A == c.B && b.B == c.A))))
            .Where(x => x.Before is not null && Math.Abs(x.Now.R - x.Before.R) >= CorrelationShift)
            .Select(x => new CorrelationChange(x.Now.A, x.Now.B, Math.Round(x.Before!.R, 4), Math.Round(x.Now.R, 4)))
            .ToList();

    /// <summary>Population stability index of two distributions over the same bins.</summary>
    public static double Psi(IReadOnlyList<double> expected, IReadOnlyList<double> actual)
    {
        double psi = 0;
        for (var i = 0; i < expected.Count; i++)
        {
            var e = Math.Max(expected[i], Floor);
            var a = Math.Max(actual[i], Floor);
            psi += (a - e) * Math.Log(a / e);
        }

        return psi;
    }

    /// <summary>P-value of the two-sample KS statistic (asymptotic Kolmogorov distribution, Stephens' correction).</summary>
    public static double KolmogorovPValue(double d, double effectiveN)
    {
        var sqrtN = Math.Sqrt(effectiveN);
        var lambda = (sqrtN + 0.12 + (0.11 / sqrtN)) * d;
        if (lambda < 1e-3)
        {
            return 1;
        }

        double sum = 0;
        for (var k = 1; k <= 100; k++)
        {
            var term = Math.Exp(-2 * k * k * lambda * lambda) * (k % 2 == 1 ? 1 : -1);
            sum += term;
            if (Math.Abs(term) < 1e-12)
            {
                break;
            }
        }

        return Math.Clamp(2 * sum, 0, 1);
    }

    /// <summary>
    /// Compares two stored profiles of a column (any two versions): the newer one's distribution is read
    /// from its quantiles, so figures are close to, not exactly, those computed while ingesting.
    /// </summary>
    public static ColumnDrift? CompareProfiles(ColumnProfile reference, ColumnProfile current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        if (reference.Quantiles is { Count: 101 } q && current.Quantiles is { Count: 101 } cq && IsOrdered(reference.Type) && IsOrdered(current.Type))
        {
            return Numeric(current.Name, x => QuantileCdf(cq, x), current.Count, q, reference.Count);
        }

        if (IsCategorical(reference.Type) && IsCategorical(current.Type) && reference.TopValues.Count > 0 && current.TopValues.Count > 0
            && reference.TopValues.Sum(v => v.Count) == reference.Count && current.TopValues.Sum(v => v.Count) == current.Count)
        {
            return Categorical(current.Name, current.TopValues.Select(v => (v.Value, v.Count)).ToList(), reference);
        }

        return null;
    }

    /// <summary>
    /// PSI, KS and the out-of-range share of live numbers (sorted ascending) against a stored profile — the
    /// same figures a new dataset version gets, so a deployment's drift reads like a dataset's.
    /// </summary>
    public static ColumnDrift? CompareSample(string name, double[] sorted, ColumnProfile reference)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        ArgumentNullException.ThrowIfNull(reference);
        if (sorted.Length == 0 || reference.Quantiles is not { Count: 101 } q)
        {
            return null;
        }

        return Numeric(name, x => ShareAtOrBelow(sorted, x), sorted.Length, q, reference.Count);
    }

    /// <summary>Share of <paramref name="sorted"/> (ascending) at or below <paramref name="x"/>, by binary search.</summary>
    public static double ShareAtOrBelow(double[] sorted, double x)
    {
        ArgumentNullException.ThrowIfNull(sorted);
        int lo = 0, hi = sorted.Length;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (sorted[mid] <= x)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return sorted.Length == 0 ? 0 : (double)lo / sorted.Length;
    }

    /// <summary>PSI and chi-square of live category counts against a stored profile whose top values list every value it had.</summary>
    public static ColumnDrift? CompareCounts(string name, IReadOnlyList<(string Value, long Count)> counts, ColumnProfile reference)
    {
        ArgumentNullException.ThrowIfNull(reference);
        return counts.Count == 0 || reference.TopValues.Count == 0 || reference.TopValues.Sum(v => v.Count) != reference.Count
            ? null
            : Categorical(name, counts, reference);
    }

    /// <summary>Share of values at or below x, interpolated between the 101 stored quantiles.</summary>
    private static double QuantileCdf(IReadOnlyList<double> q, double x)
    {
        if (x < q[0])
        {
            return 0;
        }

        if (x >= q[100])
        {
            return 1;
        }

        var k = 0;
        while (k < 99 && q[k + 1] <= x)
        {
            k++;
        }

        var span = q[k + 1] - q[k];
        return (k + (span > 0 ? (x - q[k]) / span : 1)) / 100.0;
    }

    private static ColumnDrift Numeric(string name, Func<double, double> currentCdf, long currentCount, IReadOnlyList<double> q, long referenceCount)
    {
        var n = (double)currentCount;
        double CurrentCdf(double x) => currentCdf(x);

        // Reference CDF at x: the share of reference quantiles at or below x (ties in discrete data stay together).
        static double ReferenceCdf(IReadOnlyList<double> q, double x)
        {
            var k = -1;
            for (var i = 0; i < q.Count && q[i] <= x; i++)
            {
                k = i;
            }

            return k < 0 ? 0 : k / 100.0;
        }

        var edges = Enumerable.Range(1, 9).Select(i => q[i * 10]).Distinct().ToList();
        var expected = new List<double>();
        var actual = new List<double>();
        double prevRef = 0;
        double prevCur = 0;
        foreach (var edge in edges)
        {
            // Bins are (previous edge, edge]; the current CDF counts values up to and including the edge's bin.
            var refCdf = ReferenceCdf(q, edge);
            var curCdf = CurrentCdf(Math.BitIncrement(edge));
            expected.Add(refCdf - prevRef);
            actual.Add(curCdf - prevCur);
            (prevRef, prevCur) = (refCdf, curCdf);
        }

        expected.Add(1 - prevRef);
        actual.Add(1 - prevCur);
        var psi = Psi(expected, actual);

        double d = 0;
        for (var k = 0; k <= 100; k++)
        {
            // Against the reference's share at or below q[k], not k/100: a discrete column's tied quantiles
            // (loan terms of 12, 24, 36… months) would otherwise read as a large, false difference.
            d = Math.Max(d, Math.Abs(CurrentCdf(q[k]) - ReferenceCdf(q, q[k])));
        }

        var effective = n * referenceCount / Math.Max(1, n + referenceCount);
        var outside = CurrentCdf(q[1]) + (1 - CurrentCdf(Math.BitIncrement(q[99])));
        return new ColumnDrift(name, Math.Round(psi, 4), Math.Round(d, 4), KolmogorovPValue(d, effective), null, null,
            Math.Round(outside, 4), Verdict(psi));
    }

    private static ColumnDrift Categorical(string name, IReadOnlyList<(string Value, long Count)> current, ColumnProfile reference)
    {
        var referenceTotal = (double)reference.TopValues.Sum(v => v.Count);
        var currentTotal = (double)current.Sum(v => v.Count);
        var currentByValue = current.ToDictionary(v => v.Value, v => v.Count, StringComparer.Ordinal);
        var categories = reference.TopValues.Select(v => v.Value).ToList();
        var expected = categories.Select(c => reference.TopValues.First(v => v.Value == c).Count / referenceTotal).ToList();
        var actual = categories.Select(c => currentByValue.GetValueOrDefault(c) / Math.Max(1, currentTotal)).ToList();
        var unseen = current.Where(v => !categories.Contains(v.Value, StringComparer.Ordinal)).Sum(v => v.Count);
        expected.Add(0);
        actual.Add(unseen / Math.Max(1, currentTotal));
        var psi = Psi(expected, actual);

        var (chi, p) = ChiSquare(expected, actual, currentTotal);
        return new ColumnDrift(name, Math.Round(psi, 4), null, null, chi, p, null, Verdict(psi));
    }

    /// <summary>
    /// Chi-square goodness of fit of the new counts against the reference shares. Categories expected fewer
    /// than 5 times (including ones the reference never had) are pooled; if the pool is still that small it
    /// joins the smallest regular category, as the test's validity conditions require.
    /// </summary>
    internal static (double? Statistic, double? PValue) ChiSquare(IReadOnlyList<double> expectedShares, IReadOnlyList<double> actualShares, double n)
    {
        var bins = new List<(double Observed, double Expected)>();
        (double Observed, double Expected) pool = (0, 0);
        for (var i = 0; i < expectedShares.Count; i++)
        {
            var bin = (Observed: actualShares[i] * n, Expected: expectedShares[i] * n);
            if (bin.Expected < 5)
            {
                pool = (pool.Observed + bin.Observed, pool.Expected + bin.Expected);
            }
            else
            {
                bins.Add(bin);
            }
        }

        if (pool.Observed > 0 || pool.Expected > 0)
        {
            if (pool.Expected >= 5 || bins.Count == 0)
            {
                bins.Add(pool);
            }
            else
            {
                var smallest = bins.IndexOf(bins.MinBy(b => b.Expected));
                bins[smallest] = (bins[smallest].Observed + pool.Observed, bins[smallest].Expected + pool.Expected);
            }
        }

        if (bins.Count < 2 || bins.Any(b => b.Expected <= 0))
        {
            return (null, null);
        }

        var statistic = bins.Sum(b => (b.Observed - b.Expected) * (b.Observed - b.Expected) / b.Expected);
        return (Math.Round(statistic, 2), 1 - ChiSquared.CDF(bins.Count - 1, statistic));
    }

    private static IEnumerable<ValidationFailure> Judge(ColumnDrift drift, int referenceVersion)
    {
        if (drift.Psi >= ModeratePsi)
        {
            yield return new ValidationFailure(drift.Column, ValidationRules.Drift,
                $"The distribution moved against version {referenceVersion}: PSI {drift.Psi:0.###} ({drift.Verdict})"
                + (drift.KsPValue is { } ks ? $", KS D={drift.KsStatistic:0.###} (p={ks:0.####})" : "")
                + (drift.ChiSquarePValue is { } chi ? $", chi-square {drift.ChiSquare:0.#} (p={chi:0.####})" : "") + ".",
                1, drift.Psi >= SignificantPsi ? Severity.Error : Severity.Warning, []);
        }

        if (drift.OutOfRangeShare is { } share && share >= ModerateOutOfRange)
        {
            yield return new ValidationFailure(drift.Column, ValidationRules.OutOfDistribution,
                $"{share:P1} of values lie outside the 1st–99th percentile range of version {referenceVersion} (about 2% would be expected).",
                1, share >= SevereOutOfRange ? Severity.Error : Severity.Warning, []);
        }
    }

    private static string Verdict(double psi) => psi >= SignificantPsi ? "significant drift" : psi >= ModeratePsi ? "moderate drift" : "stable";

    private static bool IsOrdered(ColumnType type) => type is ColumnType.Integer or ColumnType.Float or ColumnType.Datetime;

    private static bool IsCategorical(ColumnType type) => type is ColumnType.Categorical or ColumnType.Boolean or ColumnType.String;

    private static List<(string Value, long Count)> BooleanCounts(ColumnAccumulator column)
    {
        var (yes, no) = column.BooleanCounts;
        return [("true", yes), ("false", no)];
    }
}
