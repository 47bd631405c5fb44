using System.Globalization;
using System.Text;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Cell values the portal keeps to show (top values, preview rows) are cut at <see cref="MaxLength"/>
/// characters with an ellipsis and the full length noted, so one 5 MB cell cannot make a version's page
/// or API answer 5 MB. Counting still uses the whole value (its hash).
/// </summary>
internal static class StoredValues
{
    public const int MaxLength = 200;

    // A UTF-8 character is at most 4 bytes: this many bytes always hold MaxLength characters.
    private const int MaxBytes = MaxLength * 4;

    public static bool IsLong(ReadOnlySpan<byte> value) => value.Length > MaxLength && Encoding.UTF8.GetCharCount(value) > MaxLength;

    /// <summary>The value as text, cut when long: <c>first 200 characters… (5,242,880 characters)</c>.</summary>
    public static string Text(ReadOnlySpan<byte> value)
    {
        if (!IsLong(value))
        {
            return Encoding.UTF8.GetString(value);
        }

        var head = value[..Math.Min(value.Length, MaxBytes)];
        var text = Encoding.UTF8.GetString(head);
        return Cut(text[..Math.Min(text.Length, MaxLength)], Encoding.UTF8.GetCharCount(value));
    }

    private static string Cut(string head, int length)
    {
        // Never end on half of a surrogate pair.
        if (head.Length > 0 && char.IsHighSurrogate(head[^1]))
        {
            head = head[..^1];
        }

        return string.Create(CultureInfo.InvariantCulture, $"{head}… ({length:N0} characters)");
    }
}
