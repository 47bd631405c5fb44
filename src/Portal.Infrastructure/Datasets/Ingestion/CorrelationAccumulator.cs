namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Pearson correlations between the numeric columns, row by row, over the rows where both columns have a
/// value. Values are shifted by the first value seen so the sums do not lose precision.
/// </summary>
internal sealed class CorrelationAccumulator
{
    public const int MaxColumns = 20;

    private readonly ColumnAccumulator[] _columns;
    private readonly Pair[] _pairs;

    public CorrelationAccumulator(IReadOnlyList<ColumnAccumulator> numericCandidates)
    {
        _columns = numericCandidates.Take(MaxColumns).ToArray();
        var pairs = new List<Pair>();
        for (var i = 0; i < _columns.Length; i++)
        {
            for (var j = i + 1; j < _columns.Length; j++)
            {
                pairs.Add(new Pair(i, j));
            }
        }

        _pairs = [.. pairs];
    }

    /// <summary>The columns tracked, in the order rows give their values.</summary>
    public IReadOnlyList<ColumnAccumulator> Columns => _columns;

    /// <summary>One row: a value per tracked column, and whether the row had one.</summary>
    public void AddRow(ReadOnlySpan<double> values, ReadOnlySpan<bool> present)
    {
        foreach (var pair in _pairs)
        {
            if (present[pair.A] && present[pair.B])
            {
                pair.Add(values[pair.A], values[pair.B]);
            }
        }
    }

    /// <summary>Correlations of the pairs whose columns turned out numeric, with at least 3 shared rows.</summary>
    public IEnumerable<(string A, string B, double R)> Results(Func<ColumnAccumulator, bool> isNumeric)
    {
        foreach (var pair in _pairs)
        {
            var a = _columns[pair.A];
            var b = _columns[pair.B];
            if (isNumeric(a) && isNumeric(b) && pair.R() is { } r)
            {
                yield return (a.Name, b.Name, r);
            }
        }
    }

    private sealed class Pair(int a, int b)
    {
        private long _n;
        private double _shiftX;
        private double _shiftY;
        private double _sx;
        private double _sy;
        private double _sxx;
        private double _syy;
        private double _sxy;

        public int A { get; } = a;

        public int B { get; } = b;

        public void Add(double x, double y)
        {
            if (_n == 0)
            {
                _shiftX = x;
                _shiftY = y;
            }

            x -= _shiftX;
            y -= _shiftY;
            _n++;
            _sx += x;
            _sy += y;
            _sxx += x * x;
            _syy += y * y;
            _sxy += x * y;
        }

        public double? R()
        {
            if (_n < 3)
            {
                return null;
            }

            var cov = _sxy - (_sx * _sy / _n);
            var vx = _sxx - (_sx * _sx / _n);
            var vy = _syy - (_sy * _sy / _n);
            return vx <= 0 || vy <= 0 ? null : Math.Clamp(cov / Math.Sqrt(vx * vy), -1, 1);
        }
    }
}
