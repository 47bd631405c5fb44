namespace Portal.Domain.Common;

/// <summary>
/// Copy-on-write edits for the read-only maps entities expose: callers outside an entity can read its
/// params, tags and inputs but never change them behind the entity's rules.
/// </summary>
public static class ReadOnlyMaps
{
    public static IReadOnlyDictionary<string, T> With<T>(this IReadOnlyDictionary<string, T> map, string key, T value) =>
        new Dictionary<string, T>(map, StringComparer.Ordinal) { [key] = value };

    public static IReadOnlyDictionary<string, T> Without<T>(this IReadOnlyDictionary<string, T> map, string key)
    {
        var copy = new Dictionary<string, T>(map, StringComparer.Ordinal);
        copy.Remove(key);
        return copy;
    }

    public static IReadOnlyDictionary<string, T> Copy<T>(this IReadOnlyDictionary<string, T>? map) =>
        map is null ? new Dictionary<string, T>(StringComparer.Ordinal) : new Dictionary<string, T>(map, StringComparer.Ordinal);
}
