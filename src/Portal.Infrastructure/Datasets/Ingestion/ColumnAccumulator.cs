using System.Text;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Everything about one column gathered in the single pass: which types its values could be (the first
/// value that does not parse rules a type out), counts, distinct values, numeric moments and histogram,
/// the contract's checks with examples, cells that would act as spreadsheet formulas, and personal-data
/// matches in sampled rows.
/// </summary>
internal sealed class ColumnAccumulator
{
    public const int TopValueCount = 20;

    private readonly ContractColumn? _rule;
    private readonly HashSet<ulong>? _allowed;
    private readonly KeySet? _keys;
    private readonly HyperLogLog _distinct = new();
    private readonly ValueCounter _values = new(ColumnProfile.ExactDistinctLimit);
    private readonly AdaptiveHistogram _numbers = new();
    private readonly AdaptiveHistogram _dates = new();
    private readonly int[] _piiMatches = new int[Enum.GetValues<PiiKind>().Length];
    // Moments as sums of values shifted by the first one: no division per value, and no loss of precision
    // from large offsets (dates in seconds, ids in the millions).
    private double _shift = double.NaN;
    private double _sum;
    private double _sumOfSquares;
    private readonly bool _ruleNumeric;
    private readonly bool _ruleBoolean;
    private readonly bool _ruleDate;
    private long _trueCount;
    private long _falseCount;
    private bool _maybeInteger = true;
    private bool _maybeFloat = true;
    private bool _maybeBoolean = true;
    private bool _maybeDate = true;

    public ColumnAccumulator(string name, ContractColumn? rule, bool trackKeys)
    {
        Name = name;
        _rule = rule;
        Sensitive = rule?.Sensitive ?? false;
        _ruleNumeric = rule?.Type.IsNumeric() == true;
        _ruleBoolean = rule?.Type == ColumnType.Boolean;
        _ruleDate = rule?.Type == ColumnType.Datetime;
        if (rule?.Allowed is { } allowed)
        {
            _allowed = allowed.Select(a => FastHash.Of(Encoding.UTF8.GetBytes(a))).ToHashSet();
        }

        Missing = new RuleCounter(Sensitive);
        TypeErrors = new RuleCounter(Sensitive);
        RangeErrors = new RuleCounter(Sensitive);
        CategoryErrors = new RuleCounter(Sensitive);
        Duplicates = new RuleCounter(Sensitive);
        Formulas = new RuleCounter(Sensitive);
        if (trackKeys || rule?.Unique == true)
        {
            _keys = new KeySet((line, value) => Duplicates.Hit(line, Encoding.UTF8.GetBytes(value)));
        }
    }

    public string Name { get; }

    public bool Sensitive { get; }

    public long Present { get; private set; }

    public long MissingCount { get; private set; }

    /// <summary>Missing values in a column the contract says may not have them.</summary>
    public RuleCounter Missing { get; }

    public RuleCounter TypeErrors { get; }

    public RuleCounter RangeErrors { get; }

    public RuleCounter CategoryErrors { get; }

    public RuleCounter Duplicates { get; }

    public RuleCounter Formulas { get; }

    /// <summary>Whether uniqueness was tracked (contract says unique, or the column looks like a key).</summary>
    public bool TracksKeys => _keys is not null;

    public long PiiSampled { get; private set; }

    public bool CouldBeNumeric => _maybeFloat && _numbers.Count > 0;

    public AdaptiveHistogram Numbers => _numbers;

    public AdaptiveHistogram Dates => _dates;

    public ValueCounter Values => _values;

    public void AddMissing(long line)
    {
        MissingCount++;
        if (_rule is { Nullable: false })
        {
            Missing.Hit(line, "no value");
        }
    }

    /// <summary>Values missing from rows read before this column first appeared (JSON Lines).</summary>
    public void AddMissingRows(long rows, long firstLine)
    {
        MissingCount += rows;
        if (_rule is { Nullable: false } && rows > 0)
        {
            Missing.HitMany(rows, $"lines before {firstLine}: the key is absent");
        }
    }

    /// <summary>Takes one cell; returns whether it was a number, and which (for correlations).</summary>
    public bool Add(ReadOnlySpan<byte> raw, long line, bool samplePii, out double number)
    {
        var value = CellParser.Trim(raw);
        number = 0;
        if (CellParser.IsMissing(value))
        {
            AddMissing(line);
            return false;
        }

        Present++;
        var hash = FastHash.Of(value);
        _distinct.Add(hash);
        _values.Add(value, hash);

        var isNumber = false;
        var isInteger = false;
        if (_maybeInteger)
        {
            if (CellParser.TryParseLong(value, out var integer))
            {
                number = integer;
                isNumber = isInteger = true;
            }
            else
            {
                _maybeInteger = false;
            }
        }

        if (!isNumber && (_maybeFloat || _ruleNumeric))
        {
            if (CellParser.TryParseDouble(value, out var d) && double.IsFinite(d))
            {
                number = d;
                isNumber = true;
            }
            else
            {
                _maybeFloat = false;
            }
        }

        if (isNumber && _maybeFloat)
        {
            AddNumber(number);
        }

        if (_maybeBoolean || _ruleBoolean)
        {
            if (CellParser.TryParseBoolean(value, out var flag))
            {
                if (flag)
                {
                    _trueCount++;
                }
                else
                {
                    _falseCount++;
                }
            }
            else
            {
                _maybeBoolean = false;
            }
        }

        var isDate = false;
        if (_maybeDate || _ruleDate)
        {
            if (CellParser.TryParseDate(value, out var seconds))
            {
                isDate = true;
                if (_maybeDate)
                {
                    _dates.Add(seconds);
                }
            }
            else
            {
                _maybeDate = false;
            }
        }

        if (!isNumber && LooksLikeFormula(value))
        {
            Formulas.Hit(line, value);
        }

        if (_rule is not null)
        {
            Check(value, line, hash, isNumber, isInteger, number, isDate);
        }

        _keys?.Add(hash, line, value);

        if (samplePii)
        {
            SamplePii(value);
        }

        return isNumber;
    }

    /// <summary>Completes work that is queued for speed (key checks); call once the last row is in.</summary>
    public void Finish() => _keys?.Flush();

    /// <summary>The type the values allow, most specific first; text with few distinct values is categorical.</summary>
    public ColumnType InferredType()
    {
        if (Present == 0)
        {
            return ColumnType.String;
        }

        if (_maybeInteger)
        {
            return ColumnType.Integer;
        }

        if (_maybeFloat)
        {
            return ColumnType.Float;
        }

        if (_maybeBoolean)
        {
            return ColumnType.Boolean;
        }

        if (_maybeDate)
        {
            return ColumnType.Datetime;
        }

        return !_values.Overflowed && !_values.HasLongValues && Present >= 10 && _values.Distinct <= 100 && _values.Distinct * 5 <= Present
            ? ColumnType.Categorical
            : ColumnType.String;
    }

    public long DistinctCount => _values.Overflowed ? Math.Max(_distinct.Estimate(), ColumnProfile.ExactDistinctLimit + 1) : _values.Distinct;

    public (double Mean, double Std) Moments
    {
        get
        {
            var n = _numbers.Count;
            if (n == 0)
            {
                return (double.NaN, double.NaN);
            }

            var meanShifted = _sum / n;
            var variance = n > 1 ? Math.Max(0, (_sumOfSquares - (_sum * meanShifted)) / (n - 1)) : 0;
            return (_shift + meanShifted, Math.Sqrt(variance));
        }
    }

    public (long True, long False) BooleanCounts => (_trueCount, _falseCount);

    /// <summary>The personal-data kind most sampled values matched, if any matched often enough to flag.</summary>
    public PiiFinding? PiiFinding()
    {
        if (PiiSampled == 0)
        {
            return null;
        }

        var best = 0;
        for (var k = 1; k < _piiMatches.Length; k++)
        {
            if (_piiMatches[k] > _piiMatches[best])
            {
                best = k;
            }
        }

        var share = (double)_piiMatches[best] / PiiSampled;
        return share >= PiiScanner.FlagShare ? new PiiFinding(Name, (PiiKind)best, Math.Round(share, 4), PiiSampled) : null;
    }

    /// <summary>
    /// Text a spreadsheet would run as a formula if the value were exported to CSV as is ("=HYPERLINK(…)",
    /// "@SUM(…)", "+cmd|…", "-2+3"); a lone "-" or a negative number is not one.
    /// </summary>
    internal static bool LooksLikeFormula(ReadOnlySpan<byte> value) =>
        value.Length >= 2 && (value[0] is (byte)'=' or (byte)'@'
            || (value[0] is (byte)'+' or (byte)'-' && (char.IsAsciiLetter((char)value[1]) || value[1] is (byte)'(' or (byte)'=' or (byte)'@'
                || value[1..].IndexOfAny("+-*/="u8) >= 0)));

    private void AddNumber(double number)
    {
        _numbers.Add(number);
        if (double.IsNaN(_shift))
        {
            _shift = number;
        }

        var x = number - _shift;
        _sum += x;
        _sumOfSquares += x * x;
    }

    private void Check(ReadOnlySpan<byte> value, long line, ulong hash, bool isNumber, bool isInteger, double number, bool isDate)
    {
        var rule = _rule!;
        var typed = rule.Type switch
        {
            ColumnType.Integer => isInteger || (isNumber && number == Math.Floor(number) && CellParser.TryParseLong(value, out _)),
            ColumnType.Float => isNumber,
            ColumnType.Boolean => CellParser.TryParseBoolean(value, out _),
            ColumnType.Datetime => isDate,
            _ => true,
        };
        if (!typed)
        {
            TypeErrors.Hit(line, value);
            return;
        }

        if (rule.Type.IsNumeric() && ((rule.Min is { } min && number < min) || (rule.Max is { } max && number > max)))
        {
            RangeErrors.Hit(line, value);
        }

        if (_allowed is not null && !_allowed.Contains(hash))
        {
            CategoryErrors.Hit(line, value);
        }
    }

    private void SamplePii(ReadOnlySpan<byte> value)
    {
        PiiSampled++;
        if (value.Length is < 7 or > 64)
        {
            return;
        }

        Span<char> chars = stackalloc char[value.Length];
        var written = Encoding.UTF8.GetChars(value, chars);
        if (PiiScanner.Classify(chars[..written]) is { } kind)
        {
            _piiMatches[(int)kind]++;
        }
    }
}
