using System.Text;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// The columns of the file being read. JSON Lines feed it a row at a time; CSV feeds it batches of rows
/// whose columns are accumulated in parallel (each column's accumulator is only ever used by one thread).
/// </summary>
internal sealed class ColumnSet(DataContract? contract, int previewRows)
{
    public const int MaxColumns = 1000;

    /// <summary>Rows whose text is checked for personal data: all of the first ones, then one in a thousand.</summary>
    private const int PiiHead = 5000;
    private const int PiiStride = 1000;

    private readonly Dictionary<string, int> _byName = new(StringComparer.Ordinal);
    private readonly List<string?[]> _preview = [];
    private bool[] _seen = [];
    private double[] _rowNumbers = [];
    private bool[] _rowHasNumber = [];
    private int[] _slot = [];
    private double[] _batchNumbers = [];
    private bool[] _batchHasNumber = [];
    private CorrelationAccumulator? _correlations;
    private long _line;

    public List<ColumnAccumulator> Columns { get; } = [];

    public long Rows { get; private set; }

    public IReadOnlyList<string?[]> Preview => _preview;

    public CorrelationAccumulator? Correlations => _correlations;

    /// <summary>Sets the columns from a CSV header, refusing names no one could work with.</summary>
    public void DefineHeader(IReadOnlyList<string> names, long line)
    {
        if (names.Count > MaxColumns)
        {
            throw new DatasetFileException($"The header has {names.Count} columns; at most {MaxColumns} are supported.", line);
        }

        for (var i = 0; i < names.Count; i++)
        {
            AddColumn(names[i], i + 1, line);
        }
    }

    /// <summary>Adds a column (a CSV header cell, or a key first seen in a JSON Lines row).</summary>
    public int AddColumn(string rawName, int position, long line)
    {
        var name = rawName.Trim();
        if (name.Length == 0)
        {
            throw new DatasetFileException($"Column {position} has no name; every column needs one.", line);
        }

        if (name.Length > DataContract.MaxColumnNameLength)
        {
            throw new DatasetFileException($"The name of column {position} is {name.Length} characters long; at most {DataContract.MaxColumnNameLength} are allowed.", line);
        }

        if (name.Any(char.IsControl))
        {
            throw new DatasetFileException($"The name of column {position} contains control characters.", line);
        }

        if (Columns.Count >= MaxColumns)
        {
            throw new DatasetFileException($"The file has more than {MaxColumns} columns.", line);
        }

        if (!_byName.TryAdd(name, Columns.Count))
        {
            throw new DatasetFileException($"Column {position} is named '{name}' like an earlier column; names must be unique.", line);
        }

        var rule = contract?.Column(name);
        var column = new ColumnAccumulator(name, rule, trackKeys: rule is null && LooksLikeKey(name));
        column.AddMissingRows(Rows, line);
        Columns.Add(column);
        Array.Resize(ref _seen, Columns.Count);
        Array.Resize(ref _rowNumbers, Columns.Count);
        Array.Resize(ref _rowHasNumber, Columns.Count);
        Array.Resize(ref _slot, Columns.Count);
        _slot[^1] = -1;
        return Columns.Count - 1;
    }

    public bool TryGetColumn(string name, out int index) => _byName.TryGetValue(name, out index);

    public void BeginRow(long line)
    {
        _line = line;
        Array.Clear(_seen);
        Array.Clear(_rowHasNumber);
        if (Rows < previewRows)
        {
            _preview.Add(new string?[Columns.Count]);
        }
    }

    public void Field(int index, ReadOnlySpan<byte> value)
    {
        _seen[index] = true;
        _rowHasNumber[index] = Columns[index].Add(value, _line, SamplePii(Rows), out _rowNumbers[index]);
        if (Rows < previewRows)
        {
            var row = _preview[^1];
            if (row.Length < Columns.Count)
            {
                Array.Resize(ref row, Columns.Count);
                _preview[^1] = row;
            }

            row[index] = StoredValues.Text(CellParser.Trim(value));
        }
    }

    public void EndRow()
    {
        for (var i = 0; i < Columns.Count; i++)
        {
            if (!_seen[i])
            {
                Columns[i].AddMissing(_line);
            }
        }

        if (_correlations is null)
        {
            StartCorrelations();
        }

        var tracked = _correlations!.Columns.Count;
        Span<double> values = stackalloc double[tracked];
        Span<bool> present = stackalloc bool[tracked];
        for (var c = 0; c < Columns.Count; c++)
        {
            if (_slot[c] >= 0)
            {
                values[_slot[c]] = _rowNumbers[c];
                present[_slot[c]] = _rowHasNumber[c];
            }
        }

        _correlations.AddRow(values, present);
        Rows++;
    }

    /// <summary>Processes a batch of CSV rows: each column over all rows, columns in parallel; then correlations row by row.</summary>
    public void AddBatch(RecordBatch batch, ReadOnlyMemory<byte> data)
    {
        var row = 0;
        // Preview rows, and the first row (which picks the correlation columns), go one at a time.
        for (; row < batch.Rows && (Rows < previewRows || _correlations is null); row++)
        {
            BeginRow(batch.LineOf(row));
            for (var c = 0; c < Columns.Count; c++)
            {
                Field(c, batch.Field(row, c, data.Span));
            }

            EndRow();
        }

        var rows = batch.Rows - row;
        if (rows <= 0)
        {
            return;
        }

        var tracked = _correlations!.Columns.Count;
        if (_batchNumbers.Length < rows * tracked)
        {
            _batchNumbers = new double[rows * tracked * 2];
            _batchHasNumber = new bool[rows * tracked * 2];
        }

        var firstRow = row;
        var firstIndex = Rows;
        Parallel.For(0, Columns.Count, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, c =>
        {
            var column = Columns[c];
            var slot = _slot[c];
            var span = data.Span;
            for (var r = 0; r < rows; r++)
            {
                var isNumber = column.Add(batch.Field(firstRow + r, c, span), batch.LineOf(firstRow + r), SamplePii(firstIndex + r), out var number);
                if (slot >= 0)
                {
                    _batchNumbers[(r * tracked) + slot] = number;
                    _batchHasNumber[(r * tracked) + slot] = isNumber;
                }
            }
        });

        for (var r = 0; r < rows; r++)
        {
            _correlations.AddRow(_batchNumbers.AsSpan(r * tracked, tracked), _batchHasNumber.AsSpan(r * tracked, tracked));
        }

        Rows += rows;
    }

    /// <summary>Columns named like keys are checked for duplicates on a first version, so the proposed contract can mark them unique.</summary>
    internal static bool LooksLikeKey(string name)
    {
        var lower = name.ToLowerInvariant();
        return lower is "id" or "key" || lower.EndsWith("_id", StringComparison.Ordinal) || lower.EndsWith("-id", StringComparison.Ordinal)
            || (name.Length > 2 && name.EndsWith("Id", StringComparison.Ordinal));
    }

    private static bool SamplePii(long rowIndex) => rowIndex < PiiHead || rowIndex % PiiStride == 0;

    /// <summary>Columns that held a number in the first row are the candidates; ones that turn out not numeric drop out at the end.</summary>
    private void StartCorrelations()
    {
        var candidates = Enumerable.Range(0, Columns.Count).Where(c => _rowHasNumber[c]).Take(CorrelationAccumulator.MaxColumns).ToList();
        for (var i = 0; i < candidates.Count; i++)
        {
            _slot[candidates[i]] = i;
        }

        _correlations = new CorrelationAccumulator(candidates.Select(c => Columns[c]).ToList());
    }
}
