using Portal.Domain.Common;

namespace Portal.Domain.Datasets;

/// <summary>What the values of a column are.</summary>
public enum ColumnType
{
    Integer,
    Float,
    Boolean,
    Datetime,
    String,

    /// <summary>Text from a small set of values (a category); contracts may list the allowed ones.</summary>
    Categorical,
}

public static class ColumnTypes
{
    public static IReadOnlyList<string> Names { get; } = ["integer", "float", "boolean", "datetime", "string", "categorical"];

    public static string Name(this ColumnType type) => type.ToString().ToLowerInvariant();

    public static bool TryParse(string? name, out ColumnType type)
    {
        type = default;
        return name is not null && Names.Contains(name.Trim().ToLowerInvariant())
            && Enum.TryParse(name.Trim(), ignoreCase: true, out type);
    }

    public static ColumnType Parse(string name) =>
        TryParse(name, out var type) ? type : throw new DomainException($"'{name}' is not a column type; use one of {string.Join(", ", Names)}.");

    public static bool IsNumeric(this ColumnType type) => type is ColumnType.Integer or ColumnType.Float;

    /// <summary>Types whose values have an order, so min/max make sense.</summary>
    public static bool IsOrdered(this ColumnType type) => type is ColumnType.Integer or ColumnType.Float or ColumnType.Datetime;

    public static bool IsText(this ColumnType type) => type is ColumnType.String or ColumnType.Categorical;
}
