namespace Portal.Domain.Datasets;

/// <summary>A column as found in a file: its name, inferred type and whether any value was missing.</summary>
public sealed record ColumnSchema(string Name, ColumnType Type, bool Nullable);
