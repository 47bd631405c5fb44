using System.Buffers;
using System.Text.Unicode;
using Portal.Domain.Datasets;
using Portal.Domain.Ports;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>What one pass over a file found: its shape, statistics, checks and a contract it suggests.</summary>
public sealed record IngestedFile(
    DatasetFormat Format,
    long Rows,
    IReadOnlyList<ColumnSchema> Schema,
    DatasetProfile Profile,
    ValidationReport Validation,
    IReadOnlyList<PiiFinding> Pii,
    IReadOnlyList<IReadOnlyList<string?>> Preview,
    IReadOnlyList<ContractColumn> ProposedContract);

/// <summary>The previous version, to compare the new one with.</summary>
public sealed record DriftReference(int Version, DatasetProfile Profile);

/// <summary>
/// Reads an uploaded file once, as it arrives: every byte goes to the artifact store (hashed there) and
/// through the parser into per-column accumulators, so memory stays bounded whatever the file size.
/// Unreadable files (encoding, shape, syntax, size) are refused with the line where it went wrong;
/// contract violations and drift do not refuse the file but fail the version's validation.
/// </summary>
public sealed class DatasetIngestor
{
    public const int PreviewRows = 20;
    private const int ChunkSize = 4 << 20;
    private const int MaxRecordBytes = 64 << 20;

    public async Task<IngestedFile> IngestAsync(
        Stream input, string fileName, IArtifactUpload upload, DataContract? contract, DriftReference? reference,
        long maxBytes, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(upload);
        var buffer = ArrayPool<byte>.Shared.Rent(ChunkSize);
        try
        {
            var columns = new ColumnSet(contract, PreviewRows);
            Func<ReadOnlyMemory<byte>, bool, int>? consume = null;

            DatasetFormat format = default;
            JsonLinesRecordReader? json = null;
            CsvRecordReader? csv = null;
            int start = 0, end = 0, checkedTo = 0;
            long lineAtChecked = 1;
            long total = 0;
            var eof = false;
            var first = true;
            while (!eof)
            {
                if (end == buffer.Length)
                {
                    if (start > 0)
                    {
                        Buffer.BlockCopy(buffer, start, buffer, 0, end - start);
                        checkedTo -= start;
                        (start, end) = (0, end - start);
                    }
                    else if (buffer.Length >= MaxRecordBytes)
                    {
                        throw new DatasetFileException($"A single record is longer than {MaxRecordBytes >> 20} MB; is the file really CSV or JSON Lines?");
                    }
                    else
                    {
                        var bigger = ArrayPool<byte>.Shared.Rent(buffer.Length * 2);
                        Buffer.BlockCopy(buffer, 0, bigger, 0, end);
                        ArrayPool<byte>.Shared.Return(buffer);
                        buffer = bigger;
                    }
                }

                var read = await input.ReadAsync(buffer.AsMemory(end, buffer.Length - end), cancellationToken);
                if (read == 0)
                {
                    eof = true;
                }
                else
                {
                    total += read;
                    if (total > maxBytes)
                    {
                        throw new DatasetTooLargeException(maxBytes);
                    }

                    await upload.WriteAsync(buffer.AsMemory(end, read), cancellationToken);
                    end += read;
                }

                if (first && (end - start >= 4096 || eof))
                {
                    first = false;
                    start += Sniff(buffer.AsSpan(start, end - start), fileName, out format, out var delimiter);
                    if (format == DatasetFormat.JsonLines)
                    {
                        json = new JsonLinesRecordReader(columns);
                        consume = (m, f) => json.Consume(m.Span, f);
                    }
                    else
                    {
                        csv = new CsvRecordReader(columns, delimiter);
                        consume = (m, f) => csv.Consume(m, f);
                    }
                }

                if (consume is null)
                {
                    continue;
                }

                // Whole lines only: a line break never falls inside a multi-byte character.
                var checkUpTo = eof ? end : start + buffer.AsSpan(start, end - start).LastIndexOf((byte)'\n') + 1;
                if (checkUpTo > checkedTo)
                {
                    var from = Math.Max(checkedTo, start);
                    lineAtChecked = EnsureUtf8(buffer.AsSpan(from, checkUpTo - from), lineAtChecked);
                    checkedTo = checkUpTo;
                }

                var used = consume(buffer.AsMemory(start, end - start), eof);
                start += used;
            }

            if (total == 0)
            {
                throw new DatasetFileException("The file is empty.");
            }

            if (csv is { HaveHeader: false } || (json is not null && columns.Columns.Count == 0))
            {
                throw new DatasetFileException(json is null ? "The file has no header row." : "The file holds no JSON objects.");
            }

            if (columns.Rows == 0)
            {
                throw new DatasetFileException("The file has a header but no rows.");
            }

            return Results.Build(columns, format, contract, reference);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Works out the format and CSV delimiter, and refuses encodings other than UTF-8. Returns bytes to skip (a BOM).</summary>
    private static int Sniff(ReadOnlySpan<byte> head, string fileName, out DatasetFormat format, out byte delimiter)
    {
        delimiter = (byte)',';
        if (head.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || head.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF]))
        {
            throw new DatasetFileException("The file is UTF-16 encoded; save it as UTF-8 (CSV UTF-8 in spreadsheet programs) and upload it again.", 1);
        }

        if (head[..Math.Min(head.Length, 4096)].IndexOf((byte)0) >= 0)
        {
            throw new DatasetFileException("The file contains NUL bytes: it is binary or UTF-16, not a UTF-8 CSV or JSON Lines file.", 1);
        }

        var skip = head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF]) ? 3 : 0;
        var body = head[skip..];
        var extension = Path.GetExtension(fileName).ToLowerInvariant();
        var firstChar = body.TrimStart(" \t\r\n"u8);
        format = extension is ".jsonl" or ".ndjson" or ".json" || (extension is not (".csv" or ".tsv" or ".txt") && !firstChar.IsEmpty && firstChar[0] == (byte)'{')
            ? DatasetFormat.JsonLines
            : DatasetFormat.Csv;
        if (format == DatasetFormat.Csv)
        {
            delimiter = extension == ".tsv" ? (byte)'\t' : GuessDelimiter(body);
        }

        return skip;
    }

    /// <summary>The delimiter occurring most often in the header line, outside quotes; comma on a tie.</summary>
    private static byte GuessDelimiter(ReadOnlySpan<byte> body)
    {
        var lineEnd = body.IndexOf((byte)'\n');
        var header = lineEnd < 0 ? body : body[..lineEnd];
        ReadOnlySpan<byte> candidates = [(byte)',', (byte)';', (byte)'\t', (byte)'|'];
        Span<int> counts = stackalloc int[candidates.Length];
        var quoted = false;
        foreach (var b in header)
        {
            if (b == (byte)'"')
            {
                quoted = !quoted;
            }
            else if (!quoted)
            {
                var k = candidates.IndexOf(b);
                if (k >= 0)
                {
                    counts[k]++;
                }
            }
        }

        var best = 0;
        for (var k = 1; k < candidates.Length; k++)
        {
            if (counts[k] > counts[best])
            {
                best = k;
            }
        }

        return candidates[best];
    }

    /// <summary>Checks whole lines of text starting on line <paramref name="firstLine"/>; returns the line after them.</summary>
    private static long EnsureUtf8(ReadOnlySpan<byte> text, long firstLine)
    {
        if (Utf8.IsValid(text))
        {
            return firstLine + text.Count((byte)'\n');
        }

        // Slow path, only on failure: find the first invalid byte and its line.
        var chars = new char[text.Length];
        Utf8.ToUtf16(text, chars, out var read, out _, replaceInvalidSequences: false);
        var line = firstLine + text[..read].Count((byte)'\n');
        var column = read - (text[..read].LastIndexOf((byte)'\n') + 1) + 1;
        throw new DatasetFileException(
            $"Line {line}, byte {column} is not UTF-8 (0x{text[read]:X2}): save the file as UTF-8 and upload it again.", line);
    }
}
