using System.Text.RegularExpressions;

namespace Portal.Domain.Datasets;

/// <summary>Dataset names appear in URLs and artifact references (<c>dataset:credit-risk:2</c>).</summary>
public static partial class DatasetNames
{
    public const int MaxLength = 100;

    /// <summary>Null when the name is usable, otherwise what is wrong with it.</summary>
    public static string? Problem(string? name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "Give the dataset a name.";
        }

        if (name.Length > MaxLength)
        {
            return $"A dataset name is at most {MaxLength} characters; this one has {name.Length}.";
        }

        return Pattern().IsMatch(name) && !name.Contains("..", StringComparison.Ordinal)
            ? null
            : $"'{name}' is not a dataset name: use lower-case letters, digits, '-', '_' and '.', starting with a letter or digit.";
    }

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]*$")]
    private static partial Regex Pattern();
}
