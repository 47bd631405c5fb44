using System.Globalization;
using System.Text;

namespace Portal.Domain.Common;

/// <summary>
/// The rules every name, key and reference in the portal is checked with. They compare whole strings
/// character by character: a regular expression's <c>$</c> also matches before a final newline, which let
/// <c>credit-risk\n</c> pass as a name beside <c>credit-risk</c>.
/// </summary>
public static class Names
{
    /// <summary>True when <paramref name="text"/> is non-empty and every character passes <paramref name="allowed"/>.</summary>
    public static bool All(string? text, Func<char, bool> allowed)
    {
        ArgumentNullException.ThrowIfNull(allowed);
        if (string.IsNullOrEmpty(text))
        {
            return false;
        }

        foreach (var c in text)
        {
            if (!allowed(c))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Why <paramref name="name"/> cannot be a variable-like identifier (letters, digits and '_', not starting
    /// with a digit; upper-case only unless <paramref name="allowLower"/>), or null when it can.
    /// </summary>
    public static string? IdentifierProblem(string? name, string field, int maxLength, bool allowLower = true)
    {
        if (string.IsNullOrEmpty(name))
        {
            return $"{field}: a name is required.";
        }

        if (name.Length > maxLength)
        {
            return $"{field}: '{Visible(name)}' is longer than {maxLength} characters.";
        }

        var ok = !char.IsAsciiDigit(name[0])
            && All(name, c => char.IsAsciiLetterUpper(c) || char.IsAsciiDigit(c) || c == '_' || (allowLower && char.IsAsciiLetterLower(c)));
        return ok ? null : $"{field}: '{Visible(name)}' is not a name; use {(allowLower ? "letters" : "upper-case letters")}, digits and _, not starting with a digit.";
    }

    /// <summary>
    /// Why a name people type freely (an experiment, a run, a token, a person's display name) cannot be
    /// used, or null when it can: no control or invisible characters (newlines, NUL, zero-width or bidi
    /// marks), no spaces around it, written the way it is shown (Unicode NFKC, so no full-width or
    /// ligature look-alikes), and not mixing Latin letters with Greek or Cyrillic ones, which is how a name
    /// is made to look like another.
    /// </summary>
    public static string? FreeTextProblem(string? text, string field, int maxLength)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return $"{field}: a name is required.";
        }

        if (text.Length > maxLength)
        {
            return $"{field}: at most {maxLength} characters (got {text.Length}).";
        }

        if (text.Any(IsInvisible))
        {
            return $"{field}: '{Visible(text)}' holds a control or invisible character (such as a newline, tab, NUL or zero-width mark).";
        }

        if (text.Trim() != text)
        {
            return $"{field}: '{text}' starts or ends with a space.";
        }

        return LookAlikeProblem(text, field);
    }

    /// <summary>Why <paramref name="text"/> could pass for another name, or null: not NFKC-normal, or Latin mixed with Greek or Cyrillic.</summary>
    public static string? LookAlikeProblem(string text, string field)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.IsNormalized(NormalizationForm.FormKC))
        {
            return $"{field}: '{text}' uses look-alike characters (full-width letters, ligatures or similar); type it as '{text.Normalize(NormalizationForm.FormKC)}'.";
        }

        var latin = false;
        var other = false;
        foreach (var c in text)
        {
            var script = ScriptOf(c);
            latin |= script == Script.Latin;
            other |= script == Script.GreekOrCyrillic;
        }

        return latin && other
            ? $"{field}: '{text}' mixes Latin letters with Greek or Cyrillic ones that look alike; use one alphabet."
            : null;
    }

    /// <summary>Control, format (zero-width, bidi), line and paragraph separators, private-use and unassigned characters.</summary>
    public static bool IsInvisible(char c) => char.GetUnicodeCategory(c) switch
    {
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned => true,
        _ => false,
    };

    /// <summary>The text with control and invisible characters written out (<c>\n</c>, <c>\u200B</c>), for messages.</summary>
    public static string Visible(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var shown = new StringBuilder(text.Length);
        foreach (var c in text.Length > 200 ? text[..200] : text)
        {
            shown.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '\0' => "\\0",
                _ when IsInvisible(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        }

        return text.Length > 200 ? shown.Append('…').ToString() : shown.ToString();
    }

    private enum Script
    {
        Neutral,
        Latin,
        GreekOrCyrillic,
    }

    private static Script ScriptOf(char c) => c switch
    {
        _ when char.IsAsciiLetter(c) || (c is >= '\u00C0' and <= '\u024F' && char.IsLetter(c)) => Script.Latin,
        >= '\u0370' and <= '\u03FF' or >= '\u1F00' and <= '\u1FFF' => Script.GreekOrCyrillic,
        >= '\u0400' and <= '\u052F' or >= '\u2DE0' and <= '\u2DFF' or >= '\uA640' and <= '\uA69F' => Script.GreekOrCyrillic,
        _ => Script.Neutral,
    };
}
