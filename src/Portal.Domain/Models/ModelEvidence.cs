using Portal.Domain.Common;

namespace Portal.Domain.Models;

/// <summary>The automatic checks a new version goes through (design.md §2); their results form the evidence pack.</summary>
public static class ModelChecks
{
    public const string DataValidation = "data-validation";
    public const string RequiredMetrics = "required-metrics";
    public const string ChampionComparison = "champion-comparison";
    public const string SliceMetrics = "slice-metrics";

    public static IReadOnlyList<string> All { get; } = [DataValidation, RequiredMetrics, ChampionComparison, SliceMetrics];

    public static string Title(string name) => name switch
    {
        DataValidation => "Training data passed validation",
        RequiredMetrics => "Required metrics",
        ChampionComparison => "Compared with the champion",
        SliceMetrics => "Slice metrics",
        _ => name,
    };
}

public enum CheckStatus
{
    Pending,
    Running,
    Passed,
    Failed,
}

/// <summary>One check's outcome, with a sentence saying what was measured.</summary>
public sealed record ModelCheck(string Name, CheckStatus Status, string Detail, DateTime At)
{
    public bool IsFinal => Status is CheckStatus.Passed or CheckStatus.Failed;
}

/// <summary>A metric on one category of the slice column, for the candidate and (when there is one) the champion.</summary>
public sealed record SliceResult(string Slice, long Rows, double? Candidate, double? Champion);

/// <summary>What the evaluation job measured on the holdout dataset.</summary>
public sealed record ModelEvaluation(
    string Metric,
    bool HigherIsBetter,
    double Candidate,
    double? Champion,
    string? ChampionLabel,
    string HoldoutDataset,
    long Rows,
    string? SliceColumn,
    IReadOnlyList<SliceResult> Slices,
    string RunId)
{
    /// <summary>How much worse than the champion the candidate is (positive = worse), or null without a champion.</summary>
    public double? Shortfall => Champion is { } champion ? (HigherIsBetter ? champion - Candidate : Candidate - champion) : null;

    /// <summary>The candidate's slices with a score and at least <paramref name="minRows"/> holdout rows.</summary>
    public IReadOnlyList<SliceResult> ComparableSlices(int minRows) =>
        [.. Slices.Where(s => s.Rows >= minRows && s.Candidate is { } v && double.IsFinite(v))];

    /// <summary>The widest gap between two comparable slices of the candidate.</summary>
    public double? SliceGap(int minRows)
    {
        var values = ComparableSlices(minRows).Select(s => s.Candidate!.Value).ToList();
        return values.Count < 2 ? null : values.Max() - values.Min();
    }
}

/// <summary>
/// How new versions are checked: metrics the source run must reach, and the holdout comparison with the
/// champion and across slices. Global default in settings or Admin-edited, overridable per model.
/// </summary>
/// <param name="RequiredMetrics">Run metric → the lowest acceptable value (a name ending in <c>loss</c>, <c>rmse</c>, <c>mae</c> or <c>error</c> is a highest acceptable value).</param>
/// <param name="HoldoutDataset">Dataset whose newest version that passed validation (or a pinned <c>name:version</c>, which must have passed) both models are scored on.</param>
/// <param name="Target">The label column of the holdout dataset.</param>
/// <param name="Metric">auc, accuracy, rmse, mae or r2.</param>
/// <param name="Margin">How much worse than the champion the candidate may be.</param>
/// <param name="SliceColumn">Category column whose values are scored one by one (e.g. a sensitive attribute); empty for none.</param>
/// <param name="MaxSliceGap">Largest allowed difference of the metric between two slices.</param>
/// <param name="MinSliceRows">Slices with fewer holdout rows are shown but not compared: a score on a handful of rows is noise.</param>
public sealed record ValidationSettings(
    IReadOnlyDictionary<string, double> RequiredMetrics,
    string HoldoutDataset,
    string Target,
    string Metric,
    double Margin,
    string? SliceColumn,
    double MaxSliceGap,
    int MinSliceRows = ValidationSettings.DefaultMinSliceRows)
{
    public const int DefaultMinSliceRows = 30;

    public static IReadOnlyList<string> Metrics { get; } = ["auc", "accuracy", "rmse", "mae", "r2"];

    public bool HigherIsBetter => Metric is "auc" or "accuracy" or "r2";

    public static bool LowerIsBetter(string runMetric) =>
        runMetric.EndsWith("loss", StringComparison.OrdinalIgnoreCase) || runMetric.EndsWith("rmse", StringComparison.OrdinalIgnoreCase)
        || runMetric.EndsWith("mae", StringComparison.OrdinalIgnoreCase) || runMetric.EndsWith("error", StringComparison.OrdinalIgnoreCase);

    /// <summary>Null when the settings can work; otherwise what is wrong, naming the field.</summary>
    public string? Problem() =>
        RequiredMetrics.Keys.FirstOrDefault(k => string.IsNullOrWhiteSpace(k) || k.Length > 250) is { } badKey ? $"requiredMetrics: '{badKey}' is not a metric name."
        : RequiredMetrics.Values.Any(v => !double.IsFinite(v)) ? "requiredMetrics: every threshold is a finite number."
        : string.IsNullOrWhiteSpace(HoldoutDataset) ? "holdoutDataset: name the dataset both models are scored on."
        : string.IsNullOrWhiteSpace(Target) ? "target: name the label column of the holdout dataset."
        : !Metrics.Contains(Metric) ? $"metric: '{Metric}' is not one of {string.Join(", ", Metrics)}."
        : !double.IsFinite(Margin) || Margin < 0 ? "margin: zero or more."
        : !double.IsFinite(MaxSliceGap) || MaxSliceGap < 0 ? "maxSliceGap: zero or more."
        : MinSliceRows < 1 ? "minSliceRows: at least 1."
        : null;
}

/// <summary>
/// A version's model card (after Mitchell et al.): each section Markdown, rendered without raw HTML.
/// </summary>
public sealed record ModelCard(string IntendedUse, string Limitations, string TrainingData, string Evaluation, string EthicalConsiderations)
{
    public const int MaxSectionLength = 20_000;

    public static ModelCard Empty { get; } = new("", "", "", "", "");

    public IEnumerable<(string Title, string Markdown)> Sections()
    {
        yield return ("Intended use", IntendedUse);
        yield return ("Limitations", Limitations);
        yield return ("Training data", TrainingData);
        yield return ("Evaluation", Evaluation);
        yield return ("Ethical considerations", EthicalConsiderations);
    }

    public bool IsEmpty => Sections().All(s => string.IsNullOrWhiteSpace(s.Markdown));

    public string? Problem() =>
        Sections().FirstOrDefault(s => (s.Markdown ?? "").Length > MaxSectionLength) is { Title: { } title } && title.Length > 0
            ? $"{title}: at most {MaxSectionLength:N0} characters." : null;
}

