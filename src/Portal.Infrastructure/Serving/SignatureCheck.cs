using System.Globalization;
using System.Text.Json;
using Portal.Domain.Common;
using Portal.Domain.Datasets;

namespace Portal.Infrastructure.Serving;

/// <summary>
/// Checks scoring rows against the model's signature before anything reaches the model: every feature
/// present, of its type, and not null unless the training data had missing values. Errors name the row and
/// the feature (<c>inputs[3].age</c>); the first few are reported, and every refused feature is counted for
/// data quality.
/// </summary>
public static class SignatureCheck
{
    public const int MaxReported = 20;

    /// <summary>Null when every row fits; otherwise the problems, per field.</summary>
    public static FieldErrors? Check(JsonElement rows, IReadOnlyList<ColumnSchema> signature, Action<string>? refusedFeature = null)
    {
        ArgumentNullException.ThrowIfNull(signature);
        FieldErrors? errors = null;
        var reported = 0;
        var index = -1;
        foreach (var row in rows.EnumerateArray())
        {
            index++;
            if (row.ValueKind != JsonValueKind.Object)
            {
                Add(ref errors, ref reported, $"inputs[{index}]", $"inputs[{index}]: a row is an object of feature: value, not {Describe(row)}.");
                continue;
            }

            foreach (var column in signature)
            {
                // Most rows fit: the field's name is only spelled out for one that does not.
                string? problem = null;
                if (!row.TryGetProperty(column.Name, out var value))
                {
                    problem = $"missing; the model reads {column.Name} ({Article(column.Type)}).";
                }
                else if (value.ValueKind == JsonValueKind.Null)
                {
                    problem = column.Nullable ? null : $"null; the model's training data always had {column.Name}, so it may not be missing.";
                }
                else if (!Fits(value, column.Type))
                {
                    problem = $"{Describe(value)} is not {Article(column.Type)}.";
                }

                if (problem is not null)
                {
                    refusedFeature?.Invoke(column.Name);
                    var field = $"inputs[{index}].{column.Name}";
                    Add(ref errors, ref reported, field, $"{field}: {problem}");
                }
            }
        }

        return errors;
    }

    private static bool Fits(JsonElement value, ColumnType type) => type switch
    {
        ColumnType.Integer => value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var d) && double.IsFinite(d) && Math.Floor(d) == d,
        ColumnType.Float => value.ValueKind == JsonValueKind.Number,
        ColumnType.Boolean => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        ColumnType.Datetime => value.ValueKind == JsonValueKind.String,
        // Category codes are sometimes numbers (a branch number, a grade).
        ColumnType.Categorical or ColumnType.String => value.ValueKind is JsonValueKind.String or JsonValueKind.Number or JsonValueKind.True or JsonValueKind.False,
        _ => true,
    };

    private static string Article(ColumnType type) => type switch
    {
        ColumnType.Integer => "an integer",
        ColumnType.Float => "a number",
        ColumnType.Boolean => "true or false",
        ColumnType.Datetime => "a date and time as text",
        _ => "text",
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"the text \"{Shorten(value.GetString() ?? "")}\"",
        JsonValueKind.Number => $"the number {Shorten(value.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Shorten(string text) => Names.Visible(text.Length <= 40 ? text : text[..40] + "…");

    private static void Add(ref FieldErrors? errors, ref int reported, string field, string message)
    {
        errors ??= new FieldErrors();
        if (reported++ < MaxReported)
        {
            errors.Add(field, message);
        }
        else if (reported == MaxReported + 1)
        {
            errors.Add("inputs", string.Create(CultureInfo.InvariantCulture, $"inputs: more problems than the first {MaxReported} shown."));
        }
    }
}
