using System.Text;
using System.Text.Json;
using Portal.Domain.Common;
using Portal.Domain.Datasets;

namespace Portal.Domain.Models;

/// <summary>
/// An MLflow model folder's <c>MLmodel</c> file, read as far as the portal needs: its flavours, the input
/// signature and where the input example is. The file is the small YAML that MLflow's
/// <c>Model.to_yaml</c> writes (block maps, plain or quoted scalars, long quoted scalars folded over lines).
/// </summary>
public sealed record MlflowModel(IReadOnlyList<string> Flavors, IReadOnlyList<ColumnSchema>? Signature, string? InputExamplePath)
{
    public const string FileName = "MLmodel";

    /// <summary>Flavours the evaluation job and the model servers load; another flavour alone is refused.</summary>
    public static IReadOnlyList<string> Loadable { get; } = ["python_function", "sklearn"];

    /// <summary>Reads <paramref name="text"/>; a file that is not an MLmodel or names no loadable flavour is refused with the reason.</summary>
    public static MlflowModel Parse(string text)
    {
        var root = MiniYaml.Parse(text);
        if (root.GetValueOrDefault("flavors") is not Dictionary<string, object?> flavors || flavors.Count == 0)
        {
            throw new InvalidInputException("source", "source: the MLmodel file declares no flavors, so it is not an MLflow model.");
        }

        if (!flavors.Keys.Any(Loadable.Contains))
        {
            throw new InvalidInputException("source",
                $"source: the MLmodel names the flavor{(flavors.Count == 1 ? "" : "s")} {string.Join(", ", flavors.Keys.Select(k => $"'{k}'"))}; the portal evaluates and serves {string.Join(" and ", Loadable)} models.");
        }

        IReadOnlyList<ColumnSchema>? signature = null;
        if (root.GetValueOrDefault("signature") is Dictionary<string, object?> sig && sig.GetValueOrDefault("inputs") is string inputs && inputs.Length > 0)
        {
            signature = Columns(inputs);
        }

        var example = root.GetValueOrDefault("saved_input_example_info") is Dictionary<string, object?> info ? info.GetValueOrDefault("artifact_path") as string : null;
        return new MlflowModel([.. flavors.Keys], signature, example);
    }

    /// <summary>MLflow's column-based signature: <c>[{"type": "double", "name": "age"}, …]</c>.</summary>
    private static List<ColumnSchema> Columns(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            var columns = new List<ColumnSchema>();
            foreach (var column in document.RootElement.EnumerateArray())
            {
                var name = column.TryGetProperty("name", out var n) ? n.GetString() : null;
                var type = column.TryGetProperty("type", out var t) ? t.GetString() : null;
                if (string.IsNullOrEmpty(name))
                {
                    // A tensor signature has no column names; there is nothing to list.
                    return [];
                }

                var required = !column.TryGetProperty("required", out var r) || r.ValueKind != JsonValueKind.False;
                columns.Add(new ColumnSchema(name, TypeOf(type), !required));
            }

            return columns;
        }
        catch (JsonException e)
        {
            throw new InvalidInputException("source", $"source: the MLmodel signature's inputs are not valid JSON ({e.Message}).");
        }
    }

    private static ColumnType TypeOf(string? mlflowType) => mlflowType switch
    {
        "integer" or "long" => ColumnType.Integer,
        "float" or "double" => ColumnType.Float,
        "boolean" => ColumnType.Boolean,
        "datetime" => ColumnType.Datetime,
        _ => ColumnType.String,
    };
}

/// <summary>Just enough YAML for MLmodel files: nested block maps of scalars. Lists and anchors are not needed there.</summary>
internal static class MiniYaml
{
    public static Dictionary<string, object?> Parse(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var index = 0;
        return Map(lines, ref index, 0);
    }

    private static Dictionary<string, object?> Map(string[] lines, ref int index, int indent)
    {
        var map = new Dictionary<string, object?>(StringComparer.Ordinal);
        while (index < lines.Length)
        {
            var line = lines[index];
            if (line.Trim().Length == 0 || line.TrimStart().StartsWith('#'))
            {
                index++;
                continue;
            }

            var depth = line.Length - line.TrimStart(' ').Length;
            if (depth < indent)
            {
                break;
            }

            var colon = KeyEnd(line);
            if (depth > indent || colon < 0 || line.TrimStart().StartsWith('-'))
            {
                // A list item or a continuation we do not read: skip it.
                index++;
                continue;
            }

            var key = Unquote(line[depth..colon].Trim());
            var rest = line[(colon + 1)..].Trim();
            index++;
            if (rest.Length == 0)
            {
                var next = NextDepth(lines, index);
                map[key] = next > depth ? Map(lines, ref index, next) : null;
            }
            else if (rest[0] is '\'' or '"' && !Closed(rest))
            {
                // A long quoted scalar PyYAML folded over several lines: line breaks read as single spaces.
                var folded = new StringBuilder(rest);
                while (index < lines.Length && !Closed(folded.ToString()))
                {
                    folded.Append(' ').Append(lines[index].Trim());
                    index++;
                }

                map[key] = Scalar(folded.ToString());
            }
            else
            {
                map[key] = Scalar(rest);
            }
        }

        return map;
    }

    private static int NextDepth(string[] lines, int index)
    {
        for (; index < lines.Length; index++)
        {
            if (lines[index].Trim().Length > 0)
            {
                return lines[index].Length - lines[index].TrimStart(' ').Length;
            }
        }

        return -1;
    }

    /// <summary>The colon ending a key (outside quotes, followed by a space or the line's end).</summary>
    private static int KeyEnd(string line)
    {
        var quote = '\0';
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (quote != '\0')
            {
                quote = c == quote ? '\0' : quote;
            }
            else if (c is '\'' or '"')
            {
                quote = c;
            }
            else if (c == ':' && (i + 1 == line.Length || line[i + 1] == ' '))
            {
                return i;
            }
        }

        return -1;
    }

    private static bool Closed(string value)
    {
        var quote = value[0];
        if (quote == '\'')
        {
            // '' is an escaped quote inside a single-quoted scalar.
            var body = value[1..].Replace("''", "", StringComparison.Ordinal);
            return body.EndsWith('\'');
        }

        return value.Length > 1 && value[^1] == '"' && value[^2] != '\\';
    }

    private static object? Scalar(string value) => value switch
    {
        "null" or "~" => null,
        _ when value.StartsWith('\'') => value[1..^1].Replace("''", "'", StringComparison.Ordinal),
        _ when value.StartsWith('"') => JsonSerializer.Deserialize<string>(value),
        _ => value,
    };

    private static string Unquote(string key) => key.Length > 1 && key[0] is '\'' or '"' ? key[1..^1] : key;
}
/// <summary>What an MLflow model folder's <c>MLmodel</c> says: flavours and saved input example.</summary>
public sealed record MlflowModelFacts(IReadOnlyList<string> Flavors, string? InputExample);

public enum ModelFormat
{
    File,
    MlflowModel,
}

/// <summary>MLflow's model-version stages.</summary>
public static class ModelStages
{
    public const string None = "None";
    public const string Staging = "Staging";
    public const string Production = "Production";
    public const string Archived = "Archived";

    public static IReadOnlyList<string> All { get; } = [None, Staging, Production, Archived];

    /// <summary>MLflow accepts any casing; the answer is spelled as MLflow spells it.</summary>
    public static string Parse(string? stage) =>
        All.FirstOrDefault(s => s.Equals(stage?.Trim(), StringComparison.OrdinalIgnoreCase))
        ?? throw new InvalidInputException("stage", $"stage: '{stage}' is not a stage; use {string.Join(", ", All)}.");
}

