using Portal.Domain.Common;

namespace Portal.Domain.Deployments;

/// <summary>
/// Endpoint and deployment names follow Azure ML's rule for online endpoints, so a plan made here runs
/// there too: 3–32 characters, lower-case letters, digits and '-', starting with a letter and not ending
/// with '-'. They appear in URLs (<c>/score/{endpoint}</c>), headers and artifact references.
/// </summary>
public static class EndpointNames
{
    public const int MinLength = 3;
    public const int MaxLength = 32;

    /// <summary>Null when <paramref name="name"/> can name an endpoint or deployment; otherwise what is wrong, starting with <paramref name="field"/>.</summary>
    public static string? Problem(string? name, string field, string what = "endpoint")
    {
        var an = "aeiou".Contains(what[0], StringComparison.Ordinal) ? "an" : "a";
        if (string.IsNullOrEmpty(name))
        {
            return $"{field}: give the {what} a name.";
        }

        if (name.Length < MinLength || name.Length > MaxLength)
        {
            return $"{field}: '{Names.Visible(name)}' has {name.Length} characters; {an} {what} name has {MinLength} to {MaxLength}.";
        }

        var ok = char.IsAsciiLetterLower(name[0]) && name[^1] != '-'
            && Names.All(name, c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-');
        return ok
            ? null
            : $"{field}: '{Names.Visible(name)}' is not {an} {what} name: use lower-case letters, digits and '-', starting with a letter and not ending with '-' (no capitals or spaces).";
    }
}
