using Portal.Domain.Common;

namespace Portal.Domain.Datasets;

/// <summary>What a dataset promises about one column.</summary>
/// <param name="Min">Lowest allowed value (integer and float columns).</param>
/// <param name="Max">Highest allowed value (integer and float columns).</param>
/// <param name="Allowed">The only values allowed (categorical and string columns); null for any.</param>
/// <param name="Unique">No value may appear twice (a key).</param>
/// <param name="Sensitive">Personal or secret data: never shown in previews, examples or top values.</param>
public sealed record ContractColumn(
    string Name, ColumnType Type, bool Nullable,
    double? Min = null, double? Max = null, IReadOnlyList<string>? Allowed = null,
    bool Unique = false, bool Sensitive = false);

/// <summary>
/// A dataset's data contract: the columns every new version must have, and the rules their values
/// follow. A contract is never edited in place; a revision is a new version that records what in it
/// would break producers or consumers of the data.
/// </summary>
public sealed class DataContract
{
    public const int MaxColumns = 1000;
    public const int MaxColumnNameLength = 256;
    public const int MaxAllowedValues = 1000;

    public DataContract(int version, IReadOnlyList<ContractColumn> columns, IReadOnlyList<string> breakingChanges, DateTime createdAt, string createdBy)
    {
        Version = version;
        Columns = columns;
        BreakingChanges = breakingChanges;
        CreatedAt = createdAt;
        CreatedBy = createdBy;
    }

    public int Version { get; }

    public IReadOnlyList<ContractColumn> Columns { get; }

    /// <summary>What this version changed that could break someone, compared with the version before.</summary>
    public IReadOnlyList<string> BreakingChanges { get; }

    public DateTime CreatedAt { get; }

    public string CreatedBy { get; }

    public ContractColumn? Column(string name) => Columns.FirstOrDefault(c => c.Name == name);

    /// <summary>Problems with proposed columns, per field (<c>columns[2].min</c>); empty when they make a contract.</summary>
    public static FieldErrors Check(IReadOnlyList<ContractColumn>? columns)
    {
        var errors = new FieldErrors();
        if (columns is null || columns.Count == 0)
        {
            return errors.Add("columns", "A contract needs at least one column.");
        }

        if (columns.Count > MaxColumns)
        {
            return errors.Add("columns", $"A contract has at most {MaxColumns} columns.");
        }

        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < columns.Count; i++)
        {
            var c = columns[i];
            var at = $"columns[{i}]";
            if (string.IsNullOrWhiteSpace(c.Name))
            {
                errors.Add($"{at}.name", "Each column needs a name.");
            }
            else if (c.Name.Length > MaxColumnNameLength)
            {
                errors.Add($"{at}.name", $"A column name is at most {MaxColumnNameLength} characters; this one has {c.Name.Length}.");
            }
            else if (!seen.Add(c.Name))
            {
                errors.Add($"{at}.name", $"Column '{c.Name}' is listed twice.");
            }

            if (c.Min is not null || c.Max is not null)
            {
                if (!c.Type.IsNumeric())
                {
                    errors.Add($"{at}.min", $"min and max apply to integer and float columns; '{c.Name}' is {c.Type.Name()}.");
                }
                else if (c.Min > c.Max)
                {
                    errors.Add($"{at}.min", $"min ({c.Min}) is greater than max ({c.Max}) for '{c.Name}'.");
                }
                else if ((c.Min is { } min && !double.IsFinite(min)) || (c.Max is { } max && !double.IsFinite(max)))
                {
                    errors.Add($"{at}.min", $"min and max of '{c.Name}' must be finite numbers.");
                }
            }

            if (c.Allowed is not null)
            {
                if (!c.Type.IsText())
                {
                    errors.Add($"{at}.allowed", $"Allowed values apply to categorical and string columns; '{c.Name}' is {c.Type.Name()}.");
                }
                else if (c.Allowed.Count == 0 || c.Allowed.Count > MaxAllowedValues)
                {
                    errors.Add($"{at}.allowed", $"List 1 to {MaxAllowedValues} allowed values for '{c.Name}', or leave it out to allow any.");
                }
                else if (c.Allowed.Distinct(StringComparer.Ordinal).Count() != c.Allowed.Count)
                {
                    errors.Add($"{at}.allowed", $"The allowed values of '{c.Name}' list a value twice.");
                }
            }
        }

        return errors;
    }

    /// <summary>The first contract, or a revision of <paramref name="previous"/>, with its breaking changes worked out.</summary>
    public static DataContract Create(IReadOnlyList<ContractColumn> columns, DataContract? previous, Actor actor, TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(actor);
        var errors = Check(columns);
        if (!errors.IsEmpty)
        {
            throw new DomainException("The contract is not valid: " + errors);
        }

        var normalised = columns.Select(c => c with { Name = c.Name.Trim() }).ToList();
        return new DataContract((previous?.Version ?? 0) + 1, normalised, previous is null ? [] : BreakingChangesFrom(previous, normalised), time.UtcNow(), actor.Name);
    }

    /// <summary>Changes that make data valid under the old contract invalid under the new one, or remove a promise consumers relied on.</summary>
    public static IReadOnlyList<string> BreakingChangesFrom(DataContract previous, IReadOnlyList<ContractColumn> next)
    {
        ArgumentNullException.ThrowIfNull(previous);
        var changes = new List<string>();
        foreach (var old in previous.Columns)
        {
            var now = next.FirstOrDefault(c => c.Name == old.Name);
            if (now is null)
            {
                changes.Add($"Column '{old.Name}' was removed.");
                continue;
            }

            if (now.Type != old.Type && !IsWidening(old.Type, now.Type))
            {
                changes.Add($"Column '{old.Name}' changed type from {old.Type.Name()} to {now.Type.Name()}.");
            }

            if (old.Nullable && !now.Nullable)
            {
                changes.Add($"Column '{old.Name}' no longer allows missing values.");
            }

            if (now.Min is { } newMin && (old.Min is null || newMin > old.Min))
            {
                changes.Add($"Column '{old.Name}' now requires values of at least {newMin}.");
            }

            if (now.Max is { } newMax && (old.Max is null || newMax < old.Max))
            {
                changes.Add($"Column '{old.Name}' now requires values of at most {newMax}.");
            }

            if (now.Allowed is { } allowed)
            {
                var removed = old.Allowed is null ? null : old.Allowed.Except(allowed, StringComparer.Ordinal).ToList();
                if (old.Allowed is null)
                {
                    changes.Add($"Column '{old.Name}' now allows only listed values.");
                }
                else if (removed!.Count > 0)
                {
                    changes.Add($"Column '{old.Name}' no longer allows {string.Join(", ", removed.Select(v => $"'{v}'"))}.");
                }
            }

            if (now.Unique && !old.Unique)
            {
                changes.Add($"Column '{old.Name}' must now be unique.");
            }
        }

        foreach (var added in next.Where(c => previous.Column(c.Name) is null && !c.Nullable))
        {
            changes.Add($"Required column '{added.Name}' was added.");
        }

        return changes;
    }

    private static bool IsWidening(ColumnType from, ColumnType to) =>
        (from, to) is (ColumnType.Integer, ColumnType.Float) or (ColumnType.Categorical, ColumnType.String);
}
