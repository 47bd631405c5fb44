using System.Text.Json;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// The newest live input rows and predictions of a deployment (a ring of fixed capacity, column by column),
/// what drift and data quality are computed over. Category values are interned: the same few strings
/// arrive millions of times.
/// </summary>
public sealed class InputWindow(int capacity)
{
    public const int ReferencePredictions = 1000;
    private const int MaxDistinct = 1000;
    private const string Other = "(other)";

    private readonly Lock _gate = new();
    private readonly long[] _at = new long[capacity];
    private readonly double[] _predictions = new double[capacity];
    private readonly string?[] _labels = new string?[capacity];
    private readonly long[] _predictionAt = new long[capacity];
    private readonly List<double> _referenceNumbers = [];
    private readonly List<string> _referenceLabels = [];
    private Feature[] _features = [];
    private int _head;
    private int _count;
    private int _predictionHead;
    private int _predictionCount;

    public int Capacity => capacity;

    /// <summary>Rows appended since the window was configured.</summary>
    public long RowsSeen { get; private set; }

    /// <summary>Sets the features to keep (the model signature); a different signature starts an empty window.</summary>
    public void Configure(IReadOnlyList<ColumnSchema> signature)
    {
        ArgumentNullException.ThrowIfNull(signature);
        lock (_gate)
        {
            if (_features.Length == signature.Count && _features.Zip(signature).All(p => p.First.Name == p.Second.Name && p.First.Type == p.Second.Type))
            {
                return;
            }

            _features = [.. signature.Select(c => new Feature(c.Name, c.Type, capacity))];
            _head = _count = 0;
            RowsSeen = 0;
        }
    }

    public IReadOnlyList<(string Name, ColumnType Type)> Features
    {
        get
        {
            lock (_gate)
            {
                return [.. _features.Select(f => (f.Name, f.Type))];
            }
        }
    }

    /// <summary>Appends the rows of a request (a JSON array of objects that passed the signature check).</summary>
    public void Append(DateTime at, JsonElement rows)
    {
        var ticks = at.Ticks;
        lock (_gate)
        {
            if (_features.Length == 0)
            {
                return;
            }

            foreach (var row in rows.EnumerateArray())
            {
                var slot = _head;
                _head = (_head + 1) % capacity;
                _count = Math.Min(_count + 1, capacity);
                _at[slot] = ticks;
                RowsSeen++;
                foreach (var feature in _features)
                {
                    feature.Set(slot, row.TryGetProperty(feature.Name, out var value) ? value : default);
                }
            }
        }
    }

    /// <summary>Appends a request's predictions; the first <see cref="ReferencePredictions"/> ever seen are kept as the reference.</summary>
    public void AppendPredictions(DateTime at, JsonElement predictions)
    {
        var ticks = at.Ticks;
        lock (_gate)
        {
            foreach (var p in predictions.EnumerateArray())
            {
                var slot = _predictionHead;
                _predictionHead = (_predictionHead + 1) % capacity;
                _predictionCount = Math.Min(_predictionCount + 1, capacity);
                _predictionAt[slot] = ticks;
                if (p.ValueKind == JsonValueKind.Number)
                {
                    _predictions[slot] = p.GetDouble();
                    _labels[slot] = null;
                    if (_referenceNumbers.Count + _referenceLabels.Count < ReferencePredictions)
                    {
                        _referenceNumbers.Add(_predictions[slot]);
                    }
                }
                else
                {
                    _predictions[slot] = double.NaN;
                    _labels[slot] = p.ValueKind == JsonValueKind.String ? p.GetString() : p.GetRawText();
                    if (_referenceNumbers.Count + _referenceLabels.Count < ReferencePredictions)
                    {
                        _referenceLabels.Add(_labels[slot]!);
                    }
                }
            }
        }
    }

    /// <summary>Copies of what arrived since <paramref name="from"/>, for computing outside the lock.</summary>
    public WindowSnapshot Snapshot(DateTime from)
    {
        var since = from.Ticks;
        lock (_gate)
        {
            var slots = new List<int>(_count);
            for (var i = 0; i < _count; i++)
            {
                var slot = ((_head - 1 - i) % capacity + capacity) % capacity;
                if (_at[slot] < since)
                {
                    break;
                }

                slots.Add(slot);
            }

            var features = _features.Select(f => f.Copy(slots)).ToList();
            var predictions = new List<double>();
            var labels = new List<string>();
            for (var i = 0; i < _predictionCount; i++)
            {
                var slot = ((_predictionHead - 1 - i) % capacity + capacity) % capacity;
                if (_predictionAt[slot] < since)
                {
                    break;
                }

                if (_labels[slot] is { } label)
                {
                    labels.Add(label);
                }
                else
                {
                    predictions.Add(_predictions[slot]);
                }
            }

            return new WindowSnapshot(slots.Count, features, predictions, labels, [.. _referenceNumbers], [.. _referenceLabels]);
        }
    }

    private sealed class Feature(string name, ColumnType type, int capacity)
    {
        private readonly double[]? _numbers = IsNumeric(type) ? new double[capacity] : null;
        private readonly string?[]? _values = IsNumeric(type) ? null : new string?[capacity];
        private readonly List<string> _known = [];

        public string Name => name;

        public ColumnType Type => type;

        public static bool IsNumeric(ColumnType type) => type is ColumnType.Integer or ColumnType.Float;

        public void Set(int slot, JsonElement value)
        {
            if (_numbers is not null)
            {
                _numbers[slot] = value.ValueKind == JsonValueKind.Number ? value.GetDouble() : double.NaN;
                return;
            }

            _values![slot] = value.ValueKind switch
            {
                JsonValueKind.String => Intern(value),
                JsonValueKind.True => "true",
                JsonValueKind.False => "false",
                JsonValueKind.Number => value.GetRawText(),
                _ => null,
            };
        }

        public FeatureValues Copy(List<int> slots)
        {
            if (_numbers is not null)
            {
                var numbers = new double[slots.Count];
                for (var i = 0; i < slots.Count; i++)
                {
                    numbers[i] = _numbers[slots[i]];
                }

                return new FeatureValues(name, type, numbers, null);
            }

            var values = new string?[slots.Count];
            for (var i = 0; i < slots.Count; i++)
            {
                values[i] = _values![slots[i]];
            }

            return new FeatureValues(name, type, null, values);
        }

        private string Intern(JsonElement value)
        {
            foreach (var known in _known)
            {
                if (value.ValueEquals(known))
                {
                    return known;
                }
            }

            if (_known.Count >= MaxDistinct)
            {
                return Other;
            }

            var text = value.GetString()!;
            _known.Add(text);
            return text;
        }
    }
}

/// <summary>A feature's values in the window: numbers (NaN for missing) or category strings (null for missing).</summary>
public sealed record FeatureValues(string Name, ColumnType Type, double[]? Numbers, string?[]? Categories);

public sealed record WindowSnapshot(
    int Rows,
    IReadOnlyList<FeatureValues> Features,
    IReadOnlyList<double> Predictions,
    IReadOnlyList<string> PredictionLabels,
    IReadOnlyList<double> ReferencePredictions,
    IReadOnlyList<string> ReferenceLabels);
