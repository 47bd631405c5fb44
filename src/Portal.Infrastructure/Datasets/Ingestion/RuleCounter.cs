using System.Text;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>How often a check failed in a column, with the first few examples (masked for sensitive columns).</summary>
internal sealed class RuleCounter(bool sensitive)
{
    public const int MaxExamples = 5;
    public const string Mask = "•••";
    private const int MaxExampleLength = 60;

    private readonly List<string> _examples = [];

    public long Count { get; private set; }

    public IReadOnlyList<string> Examples => _examples;

    public void Hit(long line, ReadOnlySpan<byte> value)
    {
        Count++;
        if (_examples.Count < MaxExamples)
        {
            _examples.Add($"line {line}: {Show(value, sensitive)}");
        }
    }

    public void Hit(long line, string description)
    {
        Count++;
        if (_examples.Count < MaxExamples)
        {
            _examples.Add($"line {line}: {description}");
        }
    }

    public void HitMany(long count, string description)
    {
        Count += count;
        if (_examples.Count < MaxExamples)
        {
            _examples.Add(description);
        }
    }

    /// <summary>A value as shown in reports: quoted, shortened, never the value of a sensitive column.</summary>
    public static string Show(ReadOnlySpan<byte> value, bool sensitive)
    {
        if (sensitive)
        {
            return Mask;
        }

        if (value.Length <= MaxExampleLength || Encoding.UTF8.GetCharCount(value) <= MaxExampleLength)
        {
            return "'" + Encoding.UTF8.GetString(value) + "'";
        }

        // Long values are cut, with their full length noted (a 5 MB cell must not travel with every report).
        var head = Encoding.UTF8.GetString(value[..Math.Min(value.Length, MaxExampleLength * 4)]);
        head = head[..MaxExampleLength];
        if (char.IsHighSurrogate(head[^1]))
        {
            head = head[..^1];
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"'{head}…' ({Encoding.UTF8.GetCharCount(value):N0} characters)");
    }
}
