namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Exact counts of a column's values while it has at most <see cref="Limit"/> distinct ones (categories,
/// small integers); past that it gives up and frees its memory (ids, e-mails, amounts). Keyed by the
/// values' 64-bit hashes: a collision among 10,000 values is about one in 10^11.
/// </summary>
internal sealed class ValueCounter(int limit)
{
    private Dictionary<ulong, int>? _index = new(256);
    private readonly List<(string Value, long Count)> _entries = [];

    public int Limit { get; } = limit;

    public bool Overflowed => _index is null;

    public int Distinct => _entries.Count;

    /// <summary>Whether a value was longer than what is kept of it (<see cref="StoredValues"/>): such a column is no category list.</summary>
    public bool HasLongValues { get; private set; }

    public void Add(ReadOnlySpan<byte> value, ulong hash)
    {
        if (_index is null)
        {
            return;
        }

        if (_index.TryGetValue(hash, out var at))
        {
            var (text, count) = _entries[at];
            _entries[at] = (text, count + 1);
            return;
        }

        if (_entries.Count == Limit)
        {
            _index = null;
            _entries.Clear();
            _entries.TrimExcess();
            return;
        }

        _index[hash] = _entries.Count;
        HasLongValues |= StoredValues.IsLong(value);
        _entries.Add((StoredValues.Text(value), 1));
    }

    public IReadOnlyList<(string Value, long Count)> All => _entries;

    public IReadOnlyList<(string Value, long Count)> Top(int count) =>
        _entries.OrderByDescending(e => e.Count).ThenBy(e => e.Value, StringComparer.Ordinal).Take(count).ToList();
}
