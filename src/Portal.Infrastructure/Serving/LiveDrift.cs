using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;

namespace Portal.Infrastructure.Serving;

/// <summary>One feature's drift over the window, and how it was judged.</summary>
/// <param name="Score">Normalized Wasserstein (numbers) or Jensen–Shannon distance (categories); in a small window, 0 unless the test finds a difference.</param>
/// <param name="Psi">Population stability index over the reference's deciles or categories, as the datasets area computes it.</param>
/// <param name="PValue">KS (numbers) or chi-square (categories) p-value.</param>
public sealed record FeatureDrift(string Feature, bool Numeric, int Rows, string Method, double Score, double? Psi, double? PValue, bool Drifted);

/// <summary>Live data quality of one feature: missing values, values outside the training data's contract, and refused types.</summary>
public sealed record FeatureQuality(string Feature, int Rows, double NullShare, double OutOfContractShare, long TypeErrors);

/// <summary>Drift and data quality of a deployment's live inputs (and predictions) over the window.</summary>
public sealed record DriftReport(
    DateTime ComputedAt,
    int WindowMinutes,
    int Rows,
    string? Reference,
    double Threshold,
    IReadOnlyList<FeatureDrift> Features,
    FeatureDrift? Prediction,
    IReadOnlyList<FeatureQuality> Quality,
    double DataQualityIssues,
    string? Note)
{
    /// <summary>The largest feature score: what alerts and canary gates compare with their threshold.</summary>
    public double MaxScore => Features.Count == 0 ? 0 : Features.Max(f => f.Score);

    public bool Drifted => Features.Any(f => f.Drifted);
}

/// <summary>
/// Drift of live inputs against the model's training dataset version (its stored profile: 101 quantiles per
/// number, every category's count): per feature, normalized Wasserstein distance for numbers (divided by the
/// training data's standard deviation) and Jensen–Shannon distance for categories, with 0.1 as the default
/// threshold (Azure ML's out-of-box data drift monitor); PSI alongside, computed as for dataset versions.
/// Windows smaller than the configured minimum are judged by the KS and chi-square tests instead (p &lt; 0.05),
/// since a distance from a few rows is mostly noise. Predictions are compared with the deployment's first
/// predictions, which stand for the training distribution of the outputs.
/// </summary>
public static class LiveDrift
{
    public const double Significance = 0.05;

    public static DriftReport Compute(WindowSnapshot window, DatasetProfile? reference, string? referenceName, DataContract? contract,
        IReadOnlyDictionary<string, long> typeErrors, double threshold, int minRows, int windowMinutes, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(window);
        ArgumentNullException.ThrowIfNull(typeErrors);
        var features = new List<FeatureDrift>();
        string? note = null;
        if (reference is null)
        {
            note = "The model's lineage names no training dataset version, so live inputs have nothing to be compared with.";
        }
        else if (window.Rows == 0)
        {
            note = $"No requests in the last {windowMinutes} minutes.";
        }
        else
        {
            foreach (var feature in window.Features)
            {
                if (reference.Column(feature.Name) is { } column && Compare(feature, column, threshold, minRows) is { } drift)
                {
                    features.Add(drift);
                }
            }
        }

        var quality = Quality(window, contract, typeErrors, out var issues);
        return new DriftReport(now, windowMinutes, window.Rows, referenceName, threshold, features, Predictions(window, threshold, minRows), quality, issues, note);
    }

    public static FeatureDrift? Compare(FeatureValues feature, ColumnProfile reference, double threshold, int minRows)
    {
        ArgumentNullException.ThrowIfNull(feature);
        ArgumentNullException.ThrowIfNull(reference);
        if (feature.Numbers is { } numbers)
        {
            var sorted = numbers.Where(double.IsFinite).ToArray();
            Array.Sort(sorted);
            if (sorted.Length == 0 || reference.Quantiles is not { Count: 101 } q)
            {
                return null;
            }

            var classic = DriftAnalysis.CompareSample(feature.Name, sorted, reference);
            var spread = reference.Std is { } std && std > 0 ? std : Math.Max(q[99] - q[1], 1e-9);
            var distance = Wasserstein(p => Interpolate(q, p * 100), p => Quantile(sorted, p)) / spread;
            return Judge(feature.Name, true, sorted.Length, distance, classic?.Psi, classic?.KsPValue, threshold, minRows, "normalized Wasserstein", "KS test");
        }

        var counts = Count(feature.Categories!);
        if (counts.Count == 0 || reference.TopValues.Count == 0)
        {
            return null;
        }

        var chi = DriftAnalysis.CompareCounts(feature.Name, counts, reference);
        var js = JensenShannon(reference.TopValues.Select(v => (v.Value, v.Count)).ToList(), counts);
        return Judge(feature.Name, false, (int)counts.Sum(c => c.Count), js, chi?.Psi, chi?.ChiSquarePValue, threshold, minRows, "Jensen–Shannon", "chi-square test");
    }

    /// <summary>Drift of the predictions against the deployment's first predictions (numbers or labels).</summary>
    public static FeatureDrift? Predictions(WindowSnapshot window, double threshold, int minRows)
    {
        ArgumentNullException.ThrowIfNull(window);
        if (window.Predictions.Count > 0 && window.ReferencePredictions.Count >= 20)
        {
            var reference = window.ReferencePredictions.Where(double.IsFinite).Order().ToArray();
            var current = window.Predictions.Where(double.IsFinite).Order().ToArray();
            if (current.Length == 0)
            {
                return null;
            }

            var spread = StandardDeviation(reference) is > 0 and var std ? std : Math.Max(reference[^1] - reference[0], 1e-9);
            var distance = Wasserstein(p => Quantile(reference, p), p => Quantile(current, p)) / spread;
            var d = KolmogorovD(reference, current);
            var effective = (double)reference.Length * current.Length / (reference.Length + current.Length);
            return Judge("prediction", true, current.Length, distance, null, DriftAnalysis.KolmogorovPValue(d, effective), threshold, minRows, "normalized Wasserstein", "KS test");
        }

        if (window.PredictionLabels.Count > 0 && window.ReferenceLabels.Count >= 20)
        {
            var referenceCounts = Count(window.ReferenceLabels);
            var current = Count(window.PredictionLabels);
            return Judge("prediction", false, window.PredictionLabels.Count, JensenShannon(referenceCounts, current), null, null, threshold, minRows, "Jensen–Shannon", "Jensen–Shannon");
        }

        return null;
    }

    /// <summary>∫|F⁻¹(p) − G⁻¹(p)| dp over p in (0, 1), on 200 points.</summary>
    public static double Wasserstein(Func<double, double> reference, Func<double, double> current)
    {
        const int Points = 200;
        double sum = 0;
        for (var k = 0; k < Points; k++)
        {
            var p = (k + 0.5) / Points;
            sum += Math.Abs(reference(p) - current(p));
        }

        return sum / Points;
    }

    /// <summary>Jensen–Shannon distance (the square root of the base-2 divergence, 0–1) of two sets of category counts.</summary>
    public static double JensenShannon(IReadOnlyList<(string Value, long Count)> reference, IReadOnlyList<(string Value, long Count)> current)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(current);
        var categories = reference.Select(r => r.Value).Concat(current.Select(c => c.Value)).Distinct(StringComparer.Ordinal).ToList();
        double totalP = reference.Sum(r => r.Count), totalQ = current.Sum(c => c.Count);
        if (totalP == 0 || totalQ == 0)
        {
            return 0;
        }

        var p = reference.ToDictionary(r => r.Value, r => r.Count / totalP, StringComparer.Ordinal);
        var q = current.ToDictionary(c => c.Value, c => c.Count / totalQ, StringComparer.Ordinal);
        double divergence = 0;
        foreach (var category in categories)
        {
            var a = p.GetValueOrDefault(category);
            var b = q.GetValueOrDefault(category);
            var m = (a + b) / 2;
            if (a > 0)
            {
                divergence += 0.5 * a * Math.Log2(a / m);
            }

            if (b > 0)
            {
                divergence += 0.5 * b * Math.Log2(b / m);
            }
        }

        return Math.Sqrt(Math.Clamp(divergence, 0, 1));
    }

    private static FeatureDrift Judge(string feature, bool numeric, int rows, double distance, double? psi, double? pValue, double threshold, int minRows, string method, string test)
    {
        distance = Math.Round(distance, 4);
        if (rows >= minRows || pValue is null)
        {
            return new FeatureDrift(feature, numeric, rows, method, distance, psi, pValue, distance > threshold);
        }

        // A small window: a distance alone would be noise, so it counts only where the test finds a difference.
        var significant = pValue < Significance;
        return new FeatureDrift(feature, numeric, rows, $"{test} (small window)", significant ? distance : 0, psi, pValue, significant && distance > threshold);
    }

    private static List<FeatureQuality> Quality(WindowSnapshot window, DataContract? contract, IReadOnlyDictionary<string, long> typeErrors, out double issues)
    {
        var rows = window.Rows;
        var flagged = new bool[rows];
        var quality = new List<FeatureQuality>();
        foreach (var feature in window.Features)
        {
            var rule = contract?.Columns.FirstOrDefault(c => c.Name == feature.Name);
            int nulls = 0, outside = 0;
            for (var i = 0; i < rows; i++)
            {
                bool missing, bad;
                if (feature.Numbers is { } numbers)
                {
                    missing = double.IsNaN(numbers[i]);
                    bad = !missing && rule is not null && ((rule.Min is { } min && numbers[i] < min) || (rule.Max is { } max && numbers[i] > max));
                }
                else
                {
                    var value = feature.Categories![i];
                    missing = value is null;
                    bad = !missing && rule?.Allowed is { Count: > 0 } allowed && !allowed.Contains(value!, StringComparer.Ordinal);
                }

                nulls += missing ? 1 : 0;
                outside += bad ? 1 : 0;
                flagged[i] |= bad || (missing && rule is { Nullable: false });
            }

            quality.Add(new FeatureQuality(feature.Name, rows, rows == 0 ? 0 : (double)nulls / rows, rows == 0 ? 0 : (double)outside / rows, typeErrors.GetValueOrDefault(feature.Name)));
        }

        var refused = typeErrors.Values.Sum();
        issues = rows + refused == 0 ? 0 : (flagged.Count(f => f) + refused) / (double)(rows + refused);
        return quality;
    }

    private static List<(string Value, long Count)> Count(IEnumerable<string?> values) =>
        [.. values.OfType<string>().GroupBy(v => v, StringComparer.Ordinal).Select(g => (g.Key, (long)g.Count()))];

    /// <summary>The 101 stored quantiles read at a percentile (0–100), linearly between them.</summary>
    private static double Interpolate(IReadOnlyList<double> q, double percentile)
    {
        var k = Math.Clamp((int)Math.Floor(percentile), 0, 99);
        var within = percentile - k;
        return q[k] + ((q[k + 1] - q[k]) * within);
    }

    private static double Quantile(double[] sorted, double p)
    {
        var position = p * (sorted.Length - 1);
        var lower = (int)Math.Floor(position);
        var upper = Math.Min(lower + 1, sorted.Length - 1);
        return sorted[lower] + ((sorted[upper] - sorted[lower]) * (position - lower));
    }

    private static double StandardDeviation(double[] values)
    {
        if (values.Length < 2)
        {
            return 0;
        }

        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
    }

    private static double KolmogorovD(double[] a, double[] b)
    {
        int i = 0, j = 0;
        double d = 0;
        while (i < a.Length && j < b.Length)
        {
            var x = Math.Min(a[i], b[j]);
            while (i < a.Length && a[i] <= x)
            {
                i++;
            }

            while (j < b.Length && b[j] <= x)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / a.Length) - ((double)j / b.Length)));
        }

        return d;
    }
}
