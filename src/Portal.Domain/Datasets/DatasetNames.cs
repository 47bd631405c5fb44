using Portal.Domain.Common;

namespace Portal.Domain.Datasets;

/// <summary>
/// Dataset names (and registered model names, which follow the same rule) appear in URLs and artifact
/// references (<c>dataset:credit-risk:2</c>): lower-case ASCII letters, digits, '.', '_' and '-', starting
/// with a letter or digit — checked character by character, so nothing can trail the name.
/// </summary>
public static class DatasetNames
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

        return IsName(name)
            ? null
            : $"'{Names.Visible(name)}' is not a dataset name: use lower-case letters, digits, '-', '_' and '.', starting with a letter or digit.";
    }

    private static bool IsName(string name) =>
        (char.IsAsciiLetterLower(name[0]) || char.IsAsciiDigit(name[0]))
        && Names.All(name, c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-')
        && !name.Contains("..", StringComparison.Ordinal);
}
