namespace Portal.Domain.Common;

/// <summary>Problems with input, per field, in sentences a person can act on.</summary>
public sealed class FieldErrors
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.OrdinalIgnoreCase);

    public bool IsEmpty => _errors.Count == 0;

    /// <summary>The fields with errors, in the order first reported.</summary>
    public IEnumerable<string> Fields => _errors.Keys;

    public FieldErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
        return this;
    }

    public IReadOnlyList<string> For(string field) => _errors.TryGetValue(field, out var messages) ? messages : [];

    public IDictionary<string, string[]> ToDictionary() =>
        _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.OrdinalIgnoreCase);

    public override string ToString() => string.Join(" ", _errors.SelectMany(e => e.Value));
}
