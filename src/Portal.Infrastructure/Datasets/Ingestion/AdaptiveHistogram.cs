namespace Portal.Infrastructure.Datasets.Ingestion;

/// <summary>
/// Exact counts of numbers in equal-width bins whose width adapts in one pass: bins are cells of a
/// global grid of width w (bin = floor(v / w)); when a value falls outside the window of 4096 bins the
/// window slides, or w doubles and neighbouring bins merge. The range ends up covered by 2048–4096 bins,
/// so quantiles and drift statistics are accurate to about 1/2000 of the range, in 32 KB.
/// </summary>
internal sealed class AdaptiveHistogram
{
    private const int BinCount = 4096;
    private const int Warmup = 1024;

    private readonly long[] _counts = new long[BinCount];
    private readonly double[] _warmup = new double[Warmup];
    private int _warming;
    private double _width;
    private double _perWidth;
    private long _base;

    public long Count { get; private set; }

    public double Min { get; private set; } = double.PositiveInfinity;

    public double Max { get; private set; } = double.NegativeInfinity;

    public void Add(double value)
    {
        Count++;
        if (value < Min)
        {
            Min = value;
        }

        if (value > Max)
        {
            Max = value;
        }

        if (_width == 0)
        {
            _warmup[_warming++] = value;
            if (_warming == Warmup)
            {
                Start();
            }

            return;
        }

        Place(value);
    }

    /// <summary>Non-empty bins as (lower edge, upper edge, count), in order; the first and last are clipped to min and max.</summary>
    public IReadOnlyList<(double Lo, double Hi, long Count)> NonEmptyBins()
    {
        Settle();
        var bins = new List<(double, double, long)>();
        if (Count == 0)
        {
            return bins;
        }

        for (var i = 0; i < BinCount; i++)
        {
            if (_counts[i] > 0)
            {
                var lo = Math.Max((_base + i) * _width, Min);
                var hi = Math.Min((_base + i + 1) * _width, Max);
                bins.Add((lo, Math.Max(lo, hi), _counts[i]));
            }
        }

        return bins;
    }

    /// <summary>The value below which a share <paramref name="p"/> of the values lie (linear within a bin).</summary>
    public double Quantile(double p)
    {
        var bins = NonEmptyBins();
        if (bins.Count == 0)
        {
            return double.NaN;
        }

        var target = Math.Clamp(p, 0, 1) * Count;
        double seen = 0;
        foreach (var (lo, hi, count) in bins)
        {
            if (seen + count >= target)
            {
                var within = count == 0 ? 0 : (target - seen) / count;
                return lo + ((hi - lo) * within);
            }

            seen += count;
        }

        return Max;
    }

    /// <summary>How many values are below <paramref name="x"/> (linear within the bin holding x).</summary>
    public double CountBelow(double x)
    {
        double below = 0;
        foreach (var (lo, hi, count) in NonEmptyBins())
        {
            if (hi <= x)
            {
                below += count;
            }
            else if (lo < x)
            {
                below += count * (hi > lo ? (x - lo) / (hi - lo) : 1);
            }
        }

        return below;
    }

    private void Settle()
    {
        if (_width == 0 && _warming > 0)
        {
            Start();
        }
    }

    private void Start()
    {
        var lo = double.PositiveInfinity;
        var hi = double.NegativeInfinity;
        for (var i = 0; i < _warming; i++)
        {
            lo = Math.Min(lo, _warmup[i]);
            hi = Math.Max(hi, _warmup[i]);
        }

        // A quarter of the window for the first values leaves room to grow either way before merging.
        var span = hi - lo;
        _width = span > 0 ? span / (BinCount / 4) : Math.Max(Math.Abs(lo), 1) * 1e-9;
        _perWidth = 1 / _width;
        _base = (long)Math.Floor(lo / _width) - (BinCount * 3 / 8);
        var warming = _warming;
        _warming = 0;
        for (var i = 0; i < warming; i++)
        {
            Place(_warmup[i]);
        }
    }

    private void Place(double value)
    {
        while (true)
        {
            var cell = Math.Floor(value * _perWidth);
            var index = cell - _base;
            if (index >= 0 && index < BinCount)
            {
                _counts[(int)index]++;
                return;
            }

            Grow(cell);
        }
    }

    /// <summary>Makes room for grid cell <paramref name="cell"/>: slide the window if the occupied span allows, else double the width.</summary>
    private void Grow(double cell)
    {
        var first = Array.FindIndex(_counts, c => c > 0);
        var last = Array.FindLastIndex(_counts, c => c > 0);
        if (first < 0)
        {
            _base = (long)cell - (BinCount / 2);
            return;
        }

        var lo = Math.Min(_base + first, cell);
        var hi = Math.Max(_base + last, cell);
        if (hi - lo < BinCount - 1 && Math.Abs(cell) < 1e15)
        {
            var newBase = (long)lo - (long)((BinCount - 1 - (hi - lo)) / 2);
            var moved = new long[BinCount];
            for (var i = first; i <= last; i++)
            {
                moved[_base + i - newBase] = _counts[i];
            }

            Array.Copy(moved, _counts, BinCount);
            _base = newBase;
            return;
        }

        // Double the width: cell g becomes floor(g / 2), so pairs of bins merge.
        var merged = new long[BinCount];
        var newBaseHalf = (long)Math.Floor(_base / 2.0);
        for (var i = first; i <= last; i++)
        {
            var target = (long)Math.Floor((_base + i) / 2.0) - newBaseHalf;
            merged[target] += _counts[i];
        }

        Array.Copy(merged, _counts, BinCount);
        _base = newBaseHalf;
        _width *= 2;
        _perWidth = 1 / _width;
    }
}
