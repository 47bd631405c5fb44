namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Complete CSV records found in the read buffer, as field positions into it (no copying); quoted fields
/// with "" pairs are unescaped into a side buffer. Handed to the column set to process columns in parallel.
/// </summary>
internal sealed class RecordBatch(int fields)
{
    private int[] _starts = new int[fields * 1024];
    private int[] _lengths = new int[fields * 1024];
    private long[] _lines = new long[1024];
    private byte[] _side = new byte[4096];
    private int _sideLength;
    private int _fieldCount;

    public int Fields { get; } = fields;

    public int Rows { get; private set; }

    public long LineOf(int row) => _lines[row];

    public void BeginRow(long line)
    {
        if (Rows == _lines.Length)
        {
            Array.Resize(ref _lines, _lines.Length * 2);
            Array.Resize(ref _starts, _starts.Length * 2);
            Array.Resize(ref _lengths, _lengths.Length * 2);
        }

        _lines[Rows++] = line;
    }

    public void Add(int start, int length)
    {
        _starts[_fieldCount] = start;
        _lengths[_fieldCount++] = length;
    }

    /// <summary>Adds an unescaped field held outside the read buffer.</summary>
    public void AddUnescaped(ReadOnlySpan<byte> value)
    {
        if (_sideLength + value.Length > _side.Length)
        {
            Array.Resize(ref _side, Math.Max(_side.Length * 2, _sideLength + value.Length));
        }

        value.CopyTo(_side.AsSpan(_sideLength));
        Add(~_sideLength, value.Length);
        _sideLength += value.Length;
    }

    public ReadOnlySpan<byte> Field(int row, int column, ReadOnlySpan<byte> data)
    {
        var i = (row * Fields) + column;
        var start = _starts[i];
        return start >= 0 ? data.Slice(start, _lengths[i]) : _side.AsSpan(~start, _lengths[i]);
    }

    public void Clear()
    {
        Rows = 0;
        _fieldCount = 0;
        _sideLength = 0;
    }
}
