using System.Net;
using System.Text.RegularExpressions;

namespace Portal.Domain.Datasets;

public enum PiiKind
{
    Email,
    Phone,
    CreditCard,
    Iban,
    IpAddress,
    NationalId,
}

/// <summary>A column whose values look like personal data: which kind, and what share of the sampled values matched.</summary>
public sealed record PiiFinding(string Column, PiiKind Kind, double Share, long Sampled);

/// <summary>
/// Recognises values that look like personal data. Cheap checks on the characters come first so that
/// most ordinary values are rejected without a regular expression.
/// </summary>
public static partial class PiiScanner
{
    /// <summary>A column is flagged when at least this share of its sampled non-empty values match one kind.</summary>
    public const double FlagShare = 0.2;

    public static PiiKind? Classify(ReadOnlySpan<char> value)
    {
        value = value.Trim();
        if (value.Length is < 7 or > 64)
        {
            return null;
        }

        if (value.Contains('@') && Email().IsMatch(value))
        {
            return PiiKind.Email;
        }

        var digits = 0;
        var letters = 0;
        foreach (var c in value)
        {
            if (char.IsAsciiDigit(c))
            {
                digits++;
            }
            else if (char.IsAsciiLetter(c))
            {
                letters++;
            }
        }

        if (letters >= 2 && digits >= 12 && char.IsAsciiLetterUpper(value[0]) && IsIban(value))
        {
            return PiiKind.Iban;
        }

        if (letters == 0 && digits is >= 13 and <= 19 && CardShape().IsMatch(value) && PassesLuhn(value))
        {
            return PiiKind.CreditCard;
        }

        if (letters == 0 && (SocialSecurity().IsMatch(value)))
        {
            return PiiKind.NationalId;
        }

        if (letters >= 3 && NationalInsurance().IsMatch(value))
        {
            return PiiKind.NationalId;
        }

        if ((value.Contains('.') || value.Contains(':')) && letters <= 6 && IsIpAddress(value))
        {
            return PiiKind.IpAddress;
        }

        // Plain digit runs are usually ids or amounts; a phone number has a '+' or at least two separators
        // (a decimal number has one, a date has only eight digits).
        if (letters == 0 && digits is >= 9 and <= 15 && (value[0] == '+' || Separators(value) >= 2) && Phone().IsMatch(value))
        {
            return PiiKind.Phone;
        }

        return null;
    }

    /// <summary>The Luhn checksum credit-card numbers carry (spaces and dashes ignored).</summary>
    public static bool PassesLuhn(ReadOnlySpan<char> value)
    {
        var sum = 0;
        var doubleIt = false;
        var count = 0;
        for (var i = value.Length - 1; i >= 0; i--)
        {
            var c = value[i];
            if (c is ' ' or '-')
            {
                continue;
            }

            if (!char.IsAsciiDigit(c))
            {
                return false;
            }

            var d = c - '0';
            if (doubleIt)
            {
                d *= 2;
                if (d > 9)
                {
                    d -= 9;
                }
            }

            sum += d;
            doubleIt = !doubleIt;
            count++;
        }

        return count >= 13 && sum % 10 == 0;
    }

    /// <summary>An IBAN: country, check digits, account; the mod-97 check of ISO 13616 (spaces ignored).</summary>
    public static bool IsIban(ReadOnlySpan<char> value)
    {
        Span<char> compact = stackalloc char[value.Length];
        var n = 0;
        foreach (var c in value)
        {
            if (c != ' ')
            {
                compact[n++] = char.ToUpperInvariant(c);
            }
        }

        compact = compact[..n];
        if (n is < 15 or > 34 || !char.IsAsciiLetter(compact[0]) || !char.IsAsciiLetter(compact[1])
            || !char.IsAsciiDigit(compact[2]) || !char.IsAsciiDigit(compact[3]))
        {
            return false;
        }

        var remainder = 0;
        for (var i = 0; i < n; i++)
        {
            var c = compact[(i + 4) % n];
            if (char.IsAsciiDigit(c))
            {
                remainder = ((remainder * 10) + (c - '0')) % 97;
            }
            else if (char.IsAsciiLetterUpper(c))
            {
                var v = c - 'A' + 10;
                remainder = ((remainder * 100) + v) % 97;
            }
            else
            {
                return false;
            }
        }

        return remainder == 1;
    }

    private static int Separators(ReadOnlySpan<char> value)
    {
        var count = 0;
        foreach (var c in value)
        {
            if (c is ' ' or '-' or '(' or ')' or '.')
            {
                count++;
            }
        }

        return count;
    }

    private static bool IsIpAddress(ReadOnlySpan<char> value) =>
        IPAddress.TryParse(value, out var address)
        && (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? value.Count(':') >= 2 : value.Count('.') == 3);

    [GeneratedRegex(@"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\z")]
    private static partial Regex Email();

    [GeneratedRegex(@"^(?:\d{4}(?:[ -]?\d{4}){2,3}\d{0,3}|\d{13,19})\z")]
    private static partial Regex CardShape();

    [GeneratedRegex(@"^\d{3}-\d{2}-\d{4}\z")]
    private static partial Regex SocialSecurity();

    [GeneratedRegex(@"^[A-CEGHJ-PR-TW-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\z")]
    private static partial Regex NationalInsurance();

    [GeneratedRegex(@"^\+?\(?\d[\d ()\-.]{6,20}\d\z")]
    private static partial Regex Phone();
}
