using System.Text;
using System.Text.Json;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// JSON Lines: one JSON object per line. Keys become columns in the order first seen; a key missing
/// from a row is a missing value; nested objects and arrays are kept as JSON text.
/// </summary>
internal sealed class JsonLinesRecordReader(ColumnSet columns)
{
    private readonly Dictionary<ulong, int> _columnByKeyHash = [];
    private byte[] _scratch = new byte[1024];
    private long _line = 1;

    /// <summary>The line the next record starts on.</summary>
    public long Line => _line;

    public long Objects { get; private set; }

    public int Consume(ReadOnlySpan<byte> data, bool final)
    {
        var position = 0;
        while (position < data.Length)
        {
            var newline = data[position..].IndexOf((byte)'\n');
            if (newline < 0 && !final)
            {
                break;
            }

            var end = newline < 0 ? data.Length : position + newline;
            var line = data[position..end];
            if (!line.IsEmpty && line[^1] == (byte)'\r')
            {
                line = line[..^1];
            }

            if (!line.Trim((byte)' ').IsEmpty)
            {
                ReadObject(line);
            }

            _line++;
            position = newline < 0 ? data.Length : end + 1;
        }

        return position;
    }

    private void ReadObject(ReadOnlySpan<byte> line)
    {
        var reader = new Utf8JsonReader(line, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new DatasetFileException($"Line {_line} is not a JSON object; each line of a JSON Lines file holds one object.", _line);
            }

            columns.BeginRow(_line);
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var column = ColumnOf(ref reader);
                reader.Read();
                switch (reader.TokenType)
                {
                    case JsonTokenType.String:
                        columns.Field(column, Unescaped(ref reader));
                        break;
                    case JsonTokenType.Number:
                        columns.Field(column, reader.ValueSpan);
                        break;
                    case JsonTokenType.True:
                        columns.Field(column, "true"u8);
                        break;
                    case JsonTokenType.False:
                        columns.Field(column, "false"u8);
                        break;
                    case JsonTokenType.Null:
                        break; // counted as missing at the end of the row
                    default:
                        var start = (int)reader.TokenStartIndex;
                        reader.Skip();
                        columns.Field(column, line[start..(int)reader.BytesConsumed]);
                        break;
                }
            }

            // The reader itself refuses anything after the object ("invalid after a single JSON value").
            reader.Read();
            columns.EndRow();
            Objects++;
        }
        catch (JsonException ex)
        {
            throw new DatasetFileException($"Line {_line} is not valid JSON (at character {ex.BytePositionInLine + 1}): {FirstSentence(ex.Message)}", _line);
        }
    }

    private int ColumnOf(ref Utf8JsonReader reader)
    {
        var key = Unescaped(ref reader);
        var hash = FastHash.Of(key);
        if (_columnByKeyHash.TryGetValue(hash, out var index))
        {
            return index;
        }

        var name = Encoding.UTF8.GetString(key);
        if (!columns.TryGetColumn(name.Trim(), out index))
        {
            index = columns.AddColumn(name, columns.Columns.Count + 1, _line);
        }

        _columnByKeyHash[hash] = index;
        return index;
    }

    private ReadOnlySpan<byte> Unescaped(ref Utf8JsonReader reader)
    {
        if (!reader.ValueIsEscaped)
        {
            return reader.ValueSpan;
        }

        if (_scratch.Length < reader.ValueSpan.Length)
        {
            _scratch = new byte[reader.ValueSpan.Length * 2];
        }

        var written = reader.CopyString(_scratch);
        return _scratch.AsSpan(0, written);
    }

    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" LineNumber", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).Trim();
    }
}
