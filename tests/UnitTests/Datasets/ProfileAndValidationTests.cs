using System.Globalization;
using System.Text;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Datasets;

public class ProfileAndValidationTests : IDisposable
{
    private readonly Ingest _ingest = new();
    private readonly FixedTime _time = new();

    [Fact]
    public async Task Profile_MatchesStatisticsComputedDirectly()
    {
        var random = new Random(3);
        var values = Enumerable.Range(0, 5000).Select(_ => Math.Round(50 + (random.NextDouble() * 100), 3)).ToList();
        var csv = "x,k\n" + string.Concat(values.Select((v, i) => $"{v.ToString(CultureInfo.InvariantCulture)},{(i % 4 == 0 ? "" : "v" + (i % 3))}\n"));

        var file = await _ingest.TextAsync(csv);

        var x = file.Profile.Column("x")!;
        Assert.Equal(5000, x.Count);
        Assert.Equal(0, x.Missing);
        Assert.Equal(values.Min(), x.Min);
        Assert.Equal(values.Max(), x.Max);
        Assert.Equal(values.Average(), x.Mean!.Value, 6);
        var sd = Math.Sqrt(values.Sum(v => Math.Pow(v - values.Average(), 2)) / (values.Count - 1));
        Assert.Equal(sd, x.Std!.Value, 6);
        var sorted = values.Order().ToList();
        Assert.Equal(sorted[2500], x.Quantile(0.5)!.Value, 0); // within one unit on a 100-wide range
        Assert.Equal(5000, x.Histogram!.Counts.Sum());
        Assert.Equal(x.Histogram.Counts.Count + 1, x.Histogram.Edges.Count);
        Assert.Equal(values.Distinct().Count(), x.Distinct);

        var k = file.Profile.Column("k")!;
        Assert.Equal(1250, k.Missing);
        Assert.Equal(3, k.Distinct);
        Assert.Equal(k.TopValues.Sum(v => v.Count), k.Count);
    }

    [Fact]
    public async Task Correlations_AreFoundBetweenNumericColumns()
    {
        var rows = Enumerable.Range(1, 500).Select(i => $"{i},{i * 2 + 1},{-i},{(i % 7)}");
        var file = await _ingest.TextAsync("a,b,c,d\n" + string.Join("\n", rows));

        Assert.Equal(1, file.Profile.Correlations.Single(c => c.A == "a" && c.B == "b").R, 6);
        Assert.Equal(-1, file.Profile.Correlations.Single(c => c.A == "a" && c.B == "c").R, 6);
        Assert.InRange(file.Profile.Correlations.Single(c => c.A == "a" && c.B == "d").R, -0.2, 0.2);
    }

    [Fact]
    public async Task FirstVersion_ProposesAContractFromWhatItSaw()
    {
        var rows = Enumerable.Range(1, 100).Select(i => $"{i},{(i % 2 == 0 ? "gold" : "silver")},{(i == 5 ? "" : i.ToString(CultureInfo.InvariantCulture))},user{i}@example.com");
        var file = await _ingest.TextAsync("customer_id,tier,score,email\n" + string.Join("\n", rows));

        var proposed = file.ProposedContract.ToDictionary(c => c.Name);
        Assert.True(proposed["customer_id"].Unique);
        Assert.False(proposed["customer_id"].Nullable);
        Assert.Equal(["gold", "silver"], proposed["tier"].Allowed);
        Assert.True(proposed["score"].Nullable);
        Assert.True(proposed["email"].Sensitive);
        Assert.Equal(ColumnType.Integer, proposed["score"].Type);
    }

    [Fact]
    public async Task ContractViolations_AreCountedWithExamples_AndFailTheVersion()
    {
        var contract = Contract(
            new ContractColumn("id", ColumnType.Integer, false, Unique: true),
            new ContractColumn("age", ColumnType.Integer, false, Min: 0, Max: 120),
            new ContractColumn("tier", ColumnType.Categorical, true, Allowed: ["gold", "silver"]),
            new ContractColumn("joined", ColumnType.Datetime, true),
            new ContractColumn("gone", ColumnType.String, true));
        var csv = "id,age,tier,joined,extra\n1,30,gold,2024-01-01,x\n2,,silver,2024-01-02,x\n2,150,bronze,soon,x\n4,abc,gold,,x\n";

        var file = await _ingest.TextAsync(csv, contract: contract);

        var failures = file.Validation.Failures.ToDictionary(f => (f.Column, f.Rule));
        Assert.Equal(ValidationStatus.Failed, file.Validation.Status);
        Assert.Equal(1, failures[("age", ValidationRules.Missing)].Count);
        Assert.Equal(["line 3: no value"], failures[("age", ValidationRules.Missing)].Examples);
        Assert.Equal(1, failures[("age", ValidationRules.Range)].Count);
        Assert.Equal(["line 5: 'abc'"], failures[("age", ValidationRules.Type)].Examples);
        Assert.Equal(["line 4: 'bronze'"], failures[("tier", ValidationRules.Category)].Examples);
        Assert.Equal(["line 4: 'soon'"], failures[("joined", ValidationRules.Type)].Examples);
        Assert.Equal(["line 4: '2'"], failures[("id", ValidationRules.Duplicate)].Examples);
        Assert.Equal(Severity.Error, failures[("gone", ValidationRules.Schema)].Severity);
        Assert.Equal(Severity.Warning, failures[("extra", ValidationRules.Schema)].Severity);
        Assert.Equal(contract.Version, file.Validation.ContractVersion);
    }

    [Fact]
    public async Task SensitiveColumns_AreNeverShown_InExamplesOrPreview()
    {
        var contract = Contract(
            new ContractColumn("name", ColumnType.String, false, Sensitive: true),
            new ContractColumn("n", ColumnType.Integer, false));
        var file = await _ingest.TextAsync("name,n\nAlice Secret,1\n,2\n", contract: contract);

        Assert.Equal("•••", file.Preview[0][0]);
        Assert.Equal(["line 3: no value"], file.Validation.Failures.Single(f => f.Column == "name").Examples);
        Assert.Empty(file.Profile.Column("name")!.TopValues);
        Assert.DoesNotContain("Alice", System.Text.Json.JsonSerializer.Serialize(file));
    }

    [Fact]
    public async Task PersonalDataFoundWhileReading_IsMaskedInTheReportsExamplesToo()
    {
        // No contract says "email" is sensitive: the scan finds it, and the type errors it causes quote nothing of it.
        var contract = Contract(new ContractColumn("email", ColumnType.Integer, false), new ContractColumn("n", ColumnType.Integer, false));
        var rows = Enumerable.Range(0, 50).Select(i => $"person{i}@bank.example,{i}");
        var file = await _ingest.TextAsync("email,n\n" + string.Join("\n", rows), contract: contract);

        var typeErrors = file.Validation.Failures.Single(f => f.Column == "email" && f.Examples.Count > 0);
        Assert.All(typeErrors.Examples, e => Assert.EndsWith(": •••", e));
        Assert.DoesNotContain("bank.example", System.Text.Json.JsonSerializer.Serialize(file));
    }

    [Fact]
    public async Task FormulaLikeCells_AreWarnedAbout_ButNegativeNumbersAreNot()
    {
        var file = await _ingest.TextAsync("a,b\n\"=HYPERLINK(\"\"http://x\"\")\",-5\n@SUM(A1),-2.5\n-,7\n+cmd|' /C calc',1\n");

        var formula = Assert.Single(file.Validation.Failures, f => f.Rule == ValidationRules.Formula);
        Assert.Equal("a", formula.Column);
        Assert.Equal(3, formula.Count);
        Assert.Equal(Severity.Warning, formula.Severity);
        Assert.Equal(ValidationStatus.Passed, file.Validation.Status);
    }

    [Fact]
    public async Task PersonalData_IsFlaggedPerColumn_AndMaskedInThePreview()
    {
        var rows = Enumerable.Range(0, 200).Select(i =>
            $"{i},user{i}@bank.example,+49 30 {1000000 + i},4111 1111 1111 1111,DE89 3704 0044 0532 0130 00,10.0.{i % 250}.1,{100 + i}-{10 + (i % 89)}-{1000 + i},plain {i}");
        var file = await _ingest.TextAsync("id,email,phone,card,iban,ip,ssn,text\n" + string.Join("\n", rows));

        var kinds = file.Pii.ToDictionary(p => p.Column, p => p.Kind);
        Assert.Equal(PiiKind.Email, kinds["email"]);
        Assert.Equal(PiiKind.Phone, kinds["phone"]);
        Assert.Equal(PiiKind.CreditCard, kinds["card"]);
        Assert.Equal(PiiKind.Iban, kinds["iban"]);
        Assert.Equal(PiiKind.IpAddress, kinds["ip"]);
        Assert.Equal(PiiKind.NationalId, kinds["ssn"]);
        Assert.False(kinds.ContainsKey("id"));
        Assert.False(kinds.ContainsKey("text"));
        Assert.Equal("•••", file.Preview[0][1]);
        Assert.Equal("0", file.Preview[0][0]);
    }

    [Fact]
    public async Task SameDistribution_IsStable_AndAShiftedOneDrifts()
    {
        var baseline = await _ingest.TextAsync(Numbers(seed: 1, shift: 0));
        var reference = new DriftReference(1, baseline.Profile);

        var same = await _ingest.TextAsync(Numbers(seed: 2, shift: 0), reference: reference);
        var shifted = await _ingest.TextAsync(Numbers(seed: 3, shift: 15), reference: reference);

        var stable = same.Validation.Drift.Single(d => d.Column == "x");
        Assert.True(stable.Psi < DriftAnalysis.ModeratePsi, $"PSI {stable.Psi}");
        Assert.True(stable.KsPValue > 0.001);
        Assert.Equal(ValidationStatus.Passed, same.Validation.Status);

        var moved = shifted.Validation.Drift.Single(d => d.Column == "x");
        Assert.True(moved.Psi >= DriftAnalysis.SignificantPsi, $"PSI {moved.Psi}");
        Assert.True(moved.KsPValue < 1e-6);
        Assert.True(moved.OutOfRangeShare > 0.1);
        Assert.Equal(ValidationStatus.Failed, shifted.Validation.Status);
        Assert.Contains(shifted.Validation.Failures, f => f.Column == "x" && f.Rule == ValidationRules.Drift && f.Severity == Severity.Error);
        Assert.Contains(shifted.Validation.Failures, f => f.Column == "x" && f.Rule == ValidationRules.OutOfDistribution);
    }

    [Fact]
    public async Task CategoryShift_DriftsWithAChiSquareTest()
    {
        static string Categories(int aShare) => "c\n" + string.Concat(Enumerable.Range(0, 1000).Select(i => (i % 100 < aShare ? "a" : "b") + "\n"));
        var baseline = await _ingest.TextAsync(Categories(50));

        var moved = await _ingest.TextAsync(Categories(85), reference: new DriftReference(1, baseline.Profile));

        var drift = moved.Validation.Drift.Single();
        Assert.True(drift.Psi >= DriftAnalysis.SignificantPsi);
        Assert.True(drift.ChiSquarePValue < 1e-6);
    }

    [Fact]
    public async Task CorrelationChanges_AreReported()
    {
        var before = await _ingest.TextAsync("a,b\n" + string.Join("\n", Enumerable.Range(1, 300).Select(i => $"{i},{i * 2}")));
        var after = await _ingest.TextAsync("a,b\n" + string.Join("\n", Enumerable.Range(1, 300).Select(i => $"{i},{(i * 7919) % 300}")),
            reference: new DriftReference(1, before.Profile));

        var change = Assert.Single(after.Validation.CorrelationChanges);
        Assert.Equal(1, change.Before, 3);
        Assert.True(Math.Abs(change.After) < 0.3);
    }

    public void Dispose()
    {
        _ingest.Dispose();
        GC.SuppressFinalize(this);
    }

    private DataContract Contract(params ContractColumn[] columns) => DataContract.Create(columns, null, Actor.System, _time);

    private static string Numbers(int seed, double shift)
    {
        var random = new Random(seed);
        var csv = new StringBuilder("x\n");
        for (var i = 0; i < 4000; i++)
        {
            // Box–Muller: normal(50, 10)
            var z = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            csv.Append((50 + shift + (10 * z)).ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
        }

        return csv.ToString();
    }
}
