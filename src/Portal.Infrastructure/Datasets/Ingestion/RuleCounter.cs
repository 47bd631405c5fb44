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

        var text = Encoding.UTF8.GetString(value);
        return "'" + (text.Length > MaxExampleLength ? text[..MaxExampleLength] + "…" : text) + "'";
    }
}
