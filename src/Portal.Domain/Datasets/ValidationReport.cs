namespace Portal.Domain.Datasets;

public enum ValidationStatus
{
    Passed,
    Failed,
}

public enum Severity
{
    /// <summary>Breaks the contract or shifts the data significantly: the version is marked failed.</summary>
    Error,

    /// <summary>Worth a look; the version still passes.</summary>
    Warning,
}

/// <summary>The names of validation rules, as shown in reports and the API.</summary>
public static class ValidationRules
{
    public const string Schema = "schema";
    public const string Missing = "missing";
    public const string Type = "type";
    public const string Range = "range";
    public const string Category = "category";
    public const string Duplicate = "duplicate";
    public const string Drift = "drift";
    public const string OutOfDistribution = "out-of-distribution";
    public const string Correlation = "correlation";
    public const string Formula = "formula";
}

/// <summary>One broken check: which column, which rule, how often, and a few examples (masked for sensitive columns).</summary>
public sealed record ValidationFailure(string Column, string Rule, string Detail, long Count, Severity Severity, IReadOnlyList<string> Examples);

/// <summary>
/// How a column's distribution moved against the previous version. PSI is computed on the previous
/// version's deciles (numbers) or categories (text); KS and chi-square are the matching two-sample tests.
/// </summary>
public sealed record ColumnDrift(
    string Column, double Psi, double? KsStatistic, double? KsPValue, double? ChiSquare, double? ChiSquarePValue,
    double? OutOfRangeShare, string Verdict);

public sealed record CorrelationChange(string A, string B, double Before, double After)
{
    public double Delta => After - Before;
}

/// <summary>Everything checked when a version was registered. Any error marks the version failed; it is kept all the same.</summary>
public sealed record ValidationReport(
    IReadOnlyList<ValidationFailure> Failures,
    int? ContractVersion,
    int? ComparedToVersion,
    IReadOnlyList<ColumnDrift> Drift,
    IReadOnlyList<CorrelationChange> CorrelationChanges)
{
    public ValidationStatus Status => Failures.Any(f => f.Severity == Severity.Error) ? ValidationStatus.Failed : ValidationStatus.Passed;

    public static ValidationReport Empty { get; } = new([], null, null, [], []);
}
