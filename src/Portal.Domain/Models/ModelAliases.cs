using System.Text.RegularExpressions;
using Portal.Domain.Common;

namespace Portal.Domain.Models;

/// <summary>MLflow's rules for alias names and tag sizes, so a name the MLflow server refuses is refused here too.</summary>
public static partial class ModelAliases
{
    public const int MaxLength = 255;

    /// <summary>Null when <paramref name="alias"/> is a usable alias; otherwise what is wrong with it.</summary>
    public static string? Problem(string? alias) =>
        string.IsNullOrEmpty(alias) ? "alias: give an alias name, such as champion."
        : alias.Length > MaxLength ? $"alias: at most {MaxLength} characters; '{alias[..20]}…' has {alias.Length}."
        : !Pattern().IsMatch(alias) ? $"alias: '{alias}' may hold only letters, digits, '_' and '-' (no spaces)."
        : alias.Equals("latest", StringComparison.OrdinalIgnoreCase) || VersionLike().IsMatch(alias)
            ? $"alias: '{alias}' is reserved (MLflow reads 'latest' and 'v<number>' as versions)."
        : null;

    public static bool IsProtected(string alias, IReadOnlyCollection<string> protectedAliases) =>
        protectedAliases.Contains(alias, StringComparer.OrdinalIgnoreCase);

    [GeneratedRegex(@"^[A-Za-z0-9_\-]+\z")]
    private static partial Regex Pattern();

    [GeneratedRegex(@"^[vV]\d+\z")]
    private static partial Regex VersionLike();
}

/// <summary>MLflow's tag limits (key 250, value 5,000 characters).</summary>
public static class ModelTags
{
    public const int MaxKey = 250;
    public const int MaxValue = 5000;

    public static void Check(string? key, string? value)
    {
        if (string.IsNullOrWhiteSpace(key) || key.Length > MaxKey || key.Any(char.IsControl))
        {
            throw new InvalidInputException("key", $"key: a tag key is 1 to {MaxKey} characters without control characters.");
        }

        if ((value ?? "").Length > MaxValue)
        {
            throw new InvalidInputException("value", $"value: a tag value is at most {MaxValue} characters.");
        }
    }
}
