using System.Buffers;
using System.Text;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// RFC 4180 CSV over UTF-8 bytes: a header row, then records of the same width; fields may be quoted,
/// with "" for a quote and line breaks inside quotes. Records without quotes (almost all) take a
/// vectorised fast path. A record is only handed on once it is complete in the buffer.
/// </summary>
internal sealed class CsvRecordReader(ColumnSet columns, byte delimiter)
{
    private readonly SearchValues<byte> _fieldEnds = SearchValues.Create([delimiter, (byte)'\n', (byte)'\r', (byte)'"']);
    private readonly List<(int Start, int Length, bool Escaped)> _fields = new(64);
    private byte[] _scratch = new byte[1024];
    private RecordBatch? _batch;
    private bool _haveHeader;
    private long _line = 1;

    /// <summary>The line the next record starts on.</summary>
    public long Line => _line;

    public bool HaveHeader => _haveHeader;

    /// <summary>Reads the complete records at the start of <paramref name="memory"/>; returns how many bytes they took.</summary>
    public int Consume(ReadOnlyMemory<byte> memory, bool final)
    {
        var data = memory.Span;
        var position = 0;
        while (position < data.Length)
        {
            var end = FindRecord(data, position, final, out var nextLine, out var lineBreaks);
            if (end < 0)
            {
                break;
            }

            var record = data[position..end];
            // Blank lines are skipped, except in a one-column file where they are rows with a missing value.
            if (!IsBlank(record) || (_haveHeader && columns.Columns.Count == 1))
            {
                Emit(data);
            }

            _line += lineBreaks;
            position = nextLine;
        }

        // The batch points into this buffer, so it is processed before the caller reuses it.
        if (_batch is { Rows: > 0 })
        {
            columns.AddBatch(_batch, memory);
            _batch.Clear();
        }

        return position;
    }

    /// <summary>Finds where the record at <paramref name="start"/> ends (before its line break); -1 when it is not complete yet.</summary>
    private int FindRecord(ReadOnlySpan<byte> data, int start, bool final, out int next, out int lineBreaks)
    {
        _fields.Clear();
        next = -1;
        lineBreaks = 1;
        var fieldStart = start;
        var i = start;
        while (true)
        {
            if (i < data.Length && data[i] == (byte)'"' && i == fieldStart)
            {
                // Quoted field: runs to the next quote not followed by another quote.
                var j = i + 1;
                var escaped = false;
                while (true)
                {
                    var q = data[j..].IndexOf((byte)'"');
                    if (q < 0)
                    {
                        if (final)
                        {
                            throw new DatasetFileException($"Line {_line} opens a quoted field that is never closed.", _line);
                        }

                        return -1;
                    }

                    j += q;
                    if (j + 1 < data.Length && data[j + 1] == (byte)'"')
                    {
                        escaped = true;
                        j += 2;
                        continue;
                    }

                    if (j + 1 >= data.Length && !final)
                    {
                        return -1; // the quote may be the first of a pair
                    }

                    break;
                }

                lineBreaks += data[(i + 1)..j].Count((byte)'\n');
                _fields.Add((i + 1, j - i - 1, escaped));
                i = j + 1;
                if (i >= data.Length)
                {
                    if (!final)
                    {
                        return -1;
                    }

                    next = i;
                    return i;
                }

                var after = data[i];
                if (after == delimiter)
                {
                    fieldStart = ++i;
                    continue;
                }

                if (after is (byte)'\n' or (byte)'\r')
                {
                    return EndOfLine(data, i, out next);
                }

                throw new DatasetFileException($"Line {_line + lineBreaks - 1}, field {_fields.Count}: a closing quote must be followed by a delimiter or the end of the line.", _line);
            }

            var k = data[i..].IndexOfAny(_fieldEnds);
            if (k < 0)
            {
                if (!final)
                {
                    return -1;
                }

                _fields.Add((fieldStart, data.Length - fieldStart, false));
                next = data.Length;
                return data.Length;
            }

            i += k;
            var b = data[i];
            if (b == (byte)'"')
            {
                // A quote inside an unquoted field is kept as text, as spreadsheets do.
                i++;
                continue;
            }

            _fields.Add((fieldStart, i - fieldStart, false));
            if (b == delimiter)
            {
                fieldStart = ++i;
                if (i >= data.Length && !final)
                {
                    return -1;
                }

                if (i >= data.Length)
                {
                    _fields.Add((i, 0, false));
                    next = i;
                    return i;
                }

                continue;
            }

            return EndOfLine(data, i, out next);
        }
    }

    private static int EndOfLine(ReadOnlySpan<byte> data, int at, out int next)
    {
        next = at + 1;
        if (data[at] == (byte)'\r' && at + 1 < data.Length && data[at + 1] == (byte)'\n')
        {
            next = at + 2;
        }

        return at;
    }

    private void Emit(ReadOnlySpan<byte> data)
    {
        if (!_haveHeader)
        {
            var names = new List<string>(_fields.Count);
            foreach (var (start, length, escaped) in _fields)
            {
                names.Add(Encoding.UTF8.GetString(Field(data, start, length, escaped)));
            }

            if (names.Count > 0 && names[0].Length > 0 && names[0][0] == '\uFEFF')
            {
                names[0] = names[0][1..];
            }

            columns.DefineHeader(names, _line);
            _batch = new RecordBatch(columns.Columns.Count);
            _haveHeader = true;
            return;
        }

        if (_fields.Count != columns.Columns.Count)
        {
            throw new DatasetFileException(
                $"Line {_line} has {_fields.Count} field{(_fields.Count == 1 ? "" : "s")}; the header has {columns.Columns.Count}.", _line);
        }

        _batch!.BeginRow(_line);
        foreach (var (start, length, escaped) in _fields)
        {
            if (escaped)
            {
                _batch.AddUnescaped(Field(data, start, length, escaped));
            }
            else
            {
                _batch.Add(start, length);
            }
        }
    }

    /// <summary>A field's bytes; quoted fields with "" pairs are unescaped into a scratch buffer.</summary>
    private ReadOnlySpan<byte> Field(ReadOnlySpan<byte> data, int start, int length, bool escaped)
    {
        var raw = data.Slice(start, length);
        if (!escaped)
        {
            return raw;
        }

        if (_scratch.Length < length)
        {
            _scratch = new byte[length * 2];
        }

        var n = 0;
        for (var i = 0; i < raw.Length; i++)
        {
            _scratch[n++] = raw[i];
            if (raw[i] == (byte)'"' && i + 1 < raw.Length && raw[i + 1] == (byte)'"')
            {
                i++;
            }
        }

        return _scratch.AsSpan(0, n);
    }

    private static bool IsBlank(ReadOnlySpan<byte> record) => record.IsEmpty || (record.Length == 1 && record[0] == (byte)'\r');
}
