using System.Globalization;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>How a cell's UTF-8 bytes read as the portal's column types.</summary>
internal static class CellParser
{
    private static readonly DateTime Epoch = new(1970, 1, 1, 0, 0, 0, DateTimeKind.Utc);

    public static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> value)
    {
        var start = 0;
        var end = value.Length;
        while (start < end && value[start] == (byte)' ')
        {
            start++;
        }

        while (end > start && value[end - 1] is (byte)' ' or (byte)'\t')
        {
            end--;
        }

        return value[start..end];
    }

    /// <summary>Empty, or one of the usual spellings of "no value".</summary>
    public static bool IsMissing(ReadOnlySpan<byte> value) =>
        value.IsEmpty
        || (value.Length <= 4 && (value.SequenceEqual("NA"u8) || value.SequenceEqual("N/A"u8) || value.SequenceEqual("NULL"u8)
            || value.SequenceEqual("null"u8) || value.SequenceEqual("NaN"u8) || value.SequenceEqual("nan"u8) || value.SequenceEqual("None"u8)));

    private static readonly double[] PowersOfTen = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    public static bool TryParseLong(ReadOnlySpan<byte> value, out long result)
    {
        // Fast path: an optional minus and up to 18 digits, which cannot overflow.
        var negative = value.Length > 1 && value[0] == (byte)'-';
        var digits = negative ? value[1..] : value;
        if (digits.Length is > 0 and <= 18)
        {
            long n = 0;
            foreach (var b in digits)
            {
                var d = (uint)(b - '0');
                if (d > 9)
                {
                    result = 0;
                    return false;
                }

                n = (n * 10) + d;
            }

            result = negative ? -n : n;
            return true;
        }

        return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result);
    }

    public static bool TryParseDouble(ReadOnlySpan<byte> value, out double result)
    {
        // Fast path for plain decimals ("-1234.5678"): digits as an integer below 2^53, divided once by an
        // exact power of ten, is correctly rounded. Exponents, long fractions and the rest take the slow path.
        var i = value.Length > 1 && value[0] == (byte)'-' ? 1 : 0;
        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        for (; i < value.Length; i++)
        {
            var b = value[i];
            var d = (uint)(b - '0');
            if (d <= 9)
            {
                mantissa = (mantissa * 10) + d;
                digits++;
                if (fraction >= 0)
                {
                    fraction++;
                }
            }
            else if (b == (byte)'.' && fraction < 0)
            {
                fraction = 0;
            }
            else
            {
                digits = -1;
                break;
            }
        }

        if (digits is > 0 and <= 15 && fraction != 0 && (fraction < 0 || fraction <= 22))
        {
            result = fraction > 0 ? mantissa / PowersOfTen[fraction] : mantissa;
            if (value[0] == (byte)'-')
            {
                result = -result;
            }

            return true;
        }

        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out result);
    }

    public static bool TryParseBoolean(ReadOnlySpan<byte> value, out bool result)
    {
        result = value.Length switch
        {
            4 => Is(value, "true"u8),
            3 => Is(value, "yes"u8),
            _ => false,
        };
        return result || (value.Length == 5 && Is(value, "false"u8)) || (value.Length == 2 && Is(value, "no"u8));
    }

    /// <summary>Case-insensitive match against a lower-case ASCII word.</summary>
    private static bool Is(ReadOnlySpan<byte> value, ReadOnlySpan<byte> lowerWord)
    {
        for (var i = 0; i < lowerWord.Length; i++)
        {
            if ((value[i] | 0x20) != lowerWord[i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// ISO 8601 dates and times: <c>yyyy-MM-dd</c>, optionally followed by <c>T</c> or a space and
    /// <c>HH:mm[:ss[.fff…]]</c> and <c>Z</c> or an offset. Result in seconds since 1970-01-01 UTC.
    /// </summary>
    public static bool TryParseDate(ReadOnlySpan<byte> v, out double unixSeconds)
    {
        unixSeconds = 0;
        if (v.Length < 10 || v[4] != '-' || v[7] != '-'
            || !Digits(v[..4], out var year) || !Digits(v.Slice(5, 2), out var month) || !Digits(v.Slice(8, 2), out var day)
            || month is < 1 or > 12 || day < 1 || year < 1 || day > DateTime.DaysInMonth(year, month))
        {
            return false;
        }

        double seconds = 0;
        var rest = v[10..];
        if (!rest.IsEmpty)
        {
            if (rest.Length < 6 || (rest[0] != 'T' && rest[0] != ' ') || rest[3] != ':'
                || !Digits(rest.Slice(1, 2), out var hour) || !Digits(rest.Slice(4, 2), out var minute) || hour > 23 || minute > 59)
            {
                return false;
            }

            seconds = (hour * 3600) + (minute * 60);
            rest = rest[6..];
            if (rest.Length >= 3 && rest[0] == ':')
            {
                if (!Digits(rest.Slice(1, 2), out var second) || second > 60)
                {
                    return false;
                }

                seconds += second;
                rest = rest[3..];
                if (!rest.IsEmpty && rest[0] == '.')
                {
                    var digits = 1;
                    double scale = 0.1;
                    while (digits < rest.Length && char.IsAsciiDigit((char)rest[digits]))
                    {
                        seconds += (rest[digits] - '0') * scale;
                        scale /= 10;
                        digits++;
                    }

                    rest = rest[digits..];
                }
            }

            if (rest.Length == 1 && rest[0] == 'Z')
            {
                rest = [];
            }
            else if (rest.Length == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':'
                && Digits(rest.Slice(1, 2), out var offsetHours) && Digits(rest.Slice(4, 2), out var offsetMinutes))
            {
                var offset = (offsetHours * 3600) + (offsetMinutes * 60);
                seconds -= rest[0] == '+' ? offset : -offset;
                rest = [];
            }

            if (!rest.IsEmpty)
            {
                return false;
            }
        }

        unixSeconds = ((new DateTime(year, month, day, 0, 0, 0, DateTimeKind.Utc) - Epoch).TotalSeconds) + seconds;
        return true;
    }

    public static string FromUnixSeconds(double seconds) =>
        Epoch.AddSeconds(seconds).ToString(seconds % 86400 == 0 ? "yyyy-MM-dd" : "yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private static bool Digits(ReadOnlySpan<byte> text, out int value)
    {
        value = 0;
        foreach (var b in text)
        {
            if (b is < (byte)'0' or > (byte)'9')
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}
