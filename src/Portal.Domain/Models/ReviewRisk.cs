namespace Portal.Domain.Models;

public enum RiskLevel
{
    Low,
    Medium,
    High,
}

/// <summary>
/// How closely a reviewer should look, from the evidence alone: failed checks or slices near their limit are
/// high; a first version (nothing to compare with) or one worse than the champion is medium.
/// </summary>
public static class ReviewRisk
{
    public static (RiskLevel Level, IReadOnlyList<string> Reasons) Assess(ModelVersion version, ValidationSettings settings)
    {
        ArgumentNullException.ThrowIfNull(version);
        ArgumentNullException.ThrowIfNull(settings);
        var high = new List<string>();
        var medium = new List<string>();
        high.AddRange(version.Checks.Where(c => c.Status == CheckStatus.Failed).Select(c => $"{ModelChecks.Title(c.Name)} failed."));
        if (version.Evaluation is { } evaluation)
        {
            if (evaluation.SliceGap(settings.MinSliceRows) is { } gap && settings.MaxSliceGap > 0 && gap > 0.75 * settings.MaxSliceGap)
            {
                high.Add($"The gap between slices ({gap:0.###}) is close to the {settings.MaxSliceGap:0.###} allowed.");
            }

            if (evaluation.Champion is null)
            {
                medium.Add("No champion to compare with: this would be the first version in production.");
            }
            else if (evaluation.Shortfall is > 0)
            {
                medium.Add($"Worse than {evaluation.ChampionLabel} by {evaluation.Shortfall:0.####} on the holdout set (within the margin).");
            }
        }
        else
        {
            medium.Add("No holdout evaluation is available.");
        }

        if (version.Card.IsEmpty)
        {
            medium.Add("The model card is empty.");
        }

        return high.Count > 0 ? (RiskLevel.High, [.. high, .. medium])
            : medium.Count > 0 ? (RiskLevel.Medium, medium)
            : (RiskLevel.Low, ["All checks passed, at least as good as the champion, slices even."]);
    }
}
