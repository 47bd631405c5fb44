namespace Portal.Domain.Datasets;

/// <summary>When a shift between versions is worth a warning, and when it fails the version (common practice for PSI).</summary>
public static class DriftThresholds
{
    public const double ModeratePsi = 0.1;
    public const double SignificantPsi = 0.25;

    /// <summary>Share of values outside the previous version's 1st–99th percentiles (about 2% is expected).</summary>
    public const double ModerateOutOfRange = 0.1;
    public const double SevereOutOfRange = 0.25;

    /// <summary>Change in a Pearson correlation between two numeric columns.</summary>
    public const double CorrelationShift = 0.3;
}
