using Portal.Domain.Datasets;
using Portal.Infrastructure.Serving;

namespace Portal.UnitTests.Deployments;

/// <summary>Drift of live inputs against a training profile: distances, tests for small windows, and no false alarms.</summary>
public class LiveDriftTests
{
    private const double Threshold = 0.1;
    private const int MinRows = 200;

    [Fact]
    public void LiveValuesFromTheTrainingDistribution_DoNotDrift()
    {
        var reference = Numeric("income", Normal(20_000, seed: 1, mean: 50_000, std: 15_000));

        var drift = LiveDrift.Compare(Values("income", Normal(2_000, seed: 2, mean: 50_000, std: 15_000)), reference, Threshold, MinRows)!;

        Assert.False(drift.Drifted);
        Assert.InRange(drift.Score, 0, 0.05);
        Assert.Equal("normalized Wasserstein", drift.Method);
    }

    [Fact]
    public void ValuesShiftedByOneStandardDeviation_DriftByAboutOne()
    {
        var reference = Numeric("income", Normal(20_000, seed: 1, mean: 50_000, std: 15_000));

        var drift = LiveDrift.Compare(Values("income", Normal(2_000, seed: 3, mean: 65_000, std: 15_000)), reference, Threshold, MinRows)!;

        Assert.True(drift.Drifted);
        Assert.InRange(drift.Score, 0.9, 1.1);
        Assert.True(drift.Psi > 0.25, $"PSI {drift.Psi}");
    }

    [Fact]
    public void ADiscreteColumnInASmallWindow_FromTheSameDistribution_IsNotCalledDrift()
    {
        var terms = new[] { 12.0, 24, 36, 48, 60 };
        var random = new Random(5);
        var reference = Numeric("term_months", Enumerable.Range(0, 10_000).Select(_ => terms[random.Next(terms.Length)]).ToArray());

        var drift = LiveDrift.Compare(Values("term_months", Enumerable.Range(0, 150).Select(_ => terms[random.Next(terms.Length)]).ToArray()), reference, Threshold, MinRows)!;

        Assert.False(drift.Drifted);
        Assert.Equal(0, drift.Score);
        Assert.StartsWith("KS test (small window)", drift.Method, StringComparison.Ordinal);
        Assert.True(drift.PValue > 0.05, $"p = {drift.PValue}");
    }

    [Fact]
    public void TheDatasetsAreasComparison_OfADiscreteColumnFromTheSameDistribution_FindsNoDifference()
    {
        var terms = new[] { 12.0, 24, 36, 48, 60 };
        var random = new Random(11);
        var reference = Numeric("term_months", Enumerable.Range(0, 10_000).Select(_ => terms[random.Next(terms.Length)]).ToArray());
        var sample = Enumerable.Range(0, 5_000).Select(_ => terms[random.Next(terms.Length)]).Order().ToArray();

        var drift = Portal.Infrastructure.Datasets.Ingestion.DriftAnalysis.CompareSample("term_months", sample, reference)!;

        // Compared with k/100 at tied quantiles, D was about 0.2 and the p-value 0: a false alarm on every version.
        Assert.InRange(drift.KsStatistic!.Value, 0, 0.03);
        Assert.True(drift.KsPValue > 0.01, $"p = {drift.KsPValue}");
    }

    [Fact]
    public void ASmallWindow_IsJudgedByTheTest_ASmallShiftIsNoise_ALargeOneIsDrift()
    {
        var reference = Numeric("age", Normal(10_000, seed: 1, mean: 40, std: 10));

        var same = LiveDrift.Compare(Values("age", Normal(60, seed: 9, mean: 40, std: 10)), reference, Threshold, MinRows)!;
        var moved = LiveDrift.Compare(Values("age", Normal(60, seed: 9, mean: 55, std: 10)), reference, Threshold, MinRows)!;

        Assert.Equal(0, same.Score);
        Assert.False(same.Drifted);
        Assert.True(moved.Drifted);
        Assert.InRange(moved.Score, 1.2, 1.8);
    }

    [Fact]
    public void Categories_AreComparedByJensenShannon()
    {
        var reference = Categorical("employment", ("salaried", 6000), ("self-employed", 3000), ("unemployed", 1000));

        var same = LiveDrift.Compare(Categories("employment", ("salaried", 600), ("self-employed", 300), ("unemployed", 100)), reference, Threshold, MinRows)!;
        var shifted = LiveDrift.Compare(Categories("employment", ("salaried", 200), ("self-employed", 300), ("unemployed", 500)), reference, Threshold, MinRows)!;

        Assert.Equal("Jensen–Shannon", same.Method);
        Assert.InRange(same.Score, 0, 0.01);
        Assert.True(shifted.Drifted);
        Assert.InRange(shifted.Score, 0.3, 0.5);
    }

    [Fact]
    public void JensenShannon_IsZeroForTheSameSharesAndOneForDisjointOnes()
    {
        Assert.Equal(0, LiveDrift.JensenShannon([("a", 1), ("b", 3)], [("a", 10), ("b", 30)]), 6);
        Assert.Equal(1, LiveDrift.JensenShannon([("a", 5)], [("b", 5)]), 6);
    }

    [Fact]
    public void DataQuality_CountsMissingValuesAndValuesOutsideTheContract()
    {
        var window = new WindowSnapshot(4, [new FeatureValues("age", ColumnType.Integer, [30, double.NaN, 150, 40], null)], [], [], [], []);
        var contract = new DataContract(1, [new ContractColumn("age", ColumnType.Integer, false, Min: 18, Max: 100)], [], DateTime.UtcNow, "x");

        var report = LiveDrift.Compute(window, null, null, contract, new Dictionary<string, long> { ["age"] = 1 }, Threshold, MinRows, 15, DateTime.UtcNow);

        var age = Assert.Single(report.Quality);
        Assert.Equal(0.25, age.NullShare);
        Assert.Equal(0.25, age.OutOfContractShare);
        Assert.Equal(1, age.TypeErrors);
        Assert.Equal(3.0 / 5, report.DataQualityIssues, 6);
        Assert.Contains("names no training dataset", report.Note, StringComparison.Ordinal);
    }

    private static double[] Normal(int count, int seed, double mean, double std)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count).Select(_ => mean + (std * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble())))];
    }

    private static ColumnProfile Numeric(string name, double[] values)
    {
        var sorted = values.Order().ToArray();
        var quantiles = Enumerable.Range(0, 101).Select(k => sorted[(int)Math.Round(k / 100.0 * (sorted.Length - 1))]).ToList();
        var mean = values.Average();
        var std = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Length - 1));
        return new ColumnProfile(name, ColumnType.Float, values.Length, 0, values.Distinct().Count(), true, sorted[0], sorted[^1], mean, std, quantiles, [], null);
    }

    private static ColumnProfile Categorical(string name, params (string Value, long Count)[] counts) =>
        new(name, ColumnType.Categorical, counts.Sum(c => c.Count), 0, counts.Length, true, null, null, null, null, null,
            [.. counts.Select(c => new ValueCount(c.Value, c.Count))], null);

    private static FeatureValues Values(string name, double[] values) => new(name, ColumnType.Float, values, null);

    private static FeatureValues Categories(string name, params (string Value, int Count)[] counts) =>
        new(name, ColumnType.Categorical, null, [.. counts.SelectMany(c => Enumerable.Repeat<string?>(c.Value, c.Count))]);
}
