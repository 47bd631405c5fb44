using System.Globalization;
using System.Text.Json;
using Portal.Domain.Experiments;

namespace Portal.Api;

/// <summary>
/// Reads MLflow request bodies the way MLflow's protobuf JSON parser does: int64 fields as numbers or
/// strings, doubles as numbers or "NaN"/"Infinity"/"-Infinity". A wrong type names the field.
/// </summary>
internal readonly struct MlflowJson(JsonElement root)
{
    public static async Task<MlflowJson> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > TrackingRules.MaxRequestBytes)
        {
            throw TooLarge();
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > TrackingRules.MaxRequestBytes)
            {
                throw TooLarge();
            }
        }

        if (buffer.Length == 0)
        {
            return new MlflowJson(JsonDocument.Parse("{}").RootElement);
        }

        try
        {
            using var document = JsonDocument.Parse(buffer.ToArray());
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw TrackingException.Invalid("The request body must be a JSON object.");
            }

            return new MlflowJson(document.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw TrackingException.Invalid($"Malformed JSON request body: {e.Message}");
        }
    }

    /// <summary>Query-string parameters of GET routes, read like a body.</summary>
    public static MlflowJson FromQuery(IQueryCollection query)
    {
        var values = query.ToDictionary(q => q.Key, q => q.Value.Count > 1 ? (object)q.Value.ToArray() : q.Value.ToString(), StringComparer.Ordinal);
        return new MlflowJson(JsonSerializer.SerializeToElement(values));
    }

    public JsonElement Root => root;

    public string? String(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => throw TrackingException.Invalid($"Invalid value {Clip(value.GetRawText())} for parameter '{name}' supplied: expected a string."),
        };
    }

    public string Required(string name) =>
        String(name) is { Length: > 0 } value ? value : throw TrackingException.Invalid($"Missing value for required parameter '{name}'.");

    public long? Int64(string name) => root.TryGetProperty(name, out var value) ? ReadInt64(value, name) : null;

    public int? Int32(string name)
    {
        var value = Int64(name);
        return value is null ? null
            : value is < 0 or > int.MaxValue ? throw TrackingException.Invalid($"Invalid value {value} for parameter '{name}' supplied.")
            : (int)value;
    }

    public IReadOnlyList<string> Strings(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            return [value.GetString()!];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind is not (JsonValueKind.String or JsonValueKind.Number)))
        {
            throw TrackingException.Invalid($"Invalid value {Clip(value.GetRawText())} for parameter '{name}' supplied: expected a list of strings.");
        }

        return [.. value.EnumerateArray().Select(v => v.ValueKind == JsonValueKind.String ? v.GetString()! : v.GetRawText())];
    }

    public IReadOnlyList<MlflowJson> Objects(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (value.ValueKind != JsonValueKind.Array || value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.Object))
        {
            throw TrackingException.Invalid($"Invalid value {Clip(value.GetRawText())} for parameter '{name}' supplied: expected a list of objects.");
        }

        return [.. value.EnumerateArray().Select(v => new MlflowJson(v))];
    }

    /// <summary><c>[{key, value}]</c> lists of params and tags.</summary>
    public IReadOnlyList<KeyValuePair<string?, string?>> KeyValues(string name) =>
        [.. Objects(name).Select(o => new KeyValuePair<string?, string?>(o.String("key"), o.String("value")))];

    public double? Double(string name)
    {
        if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String)
        {
            var text = value.GetString()!;
            switch (text)
            {
                case "NaN":
                    return double.NaN;
                case "Infinity":
                    return double.PositiveInfinity;
                case "-Infinity":
                    return double.NegativeInfinity;
            }

            if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out number))
            {
                return number;
            }
        }

        throw TrackingException.Invalid($"Invalid value {Clip(value.GetRawText())} for parameter '{name}' supplied: expected a number.");
    }

    public MetricPoint Metric() => MetricPoint.Create(String("key"), Double("value"), Int64("timestamp"), Int64("step"));

    private static long? ReadInt64(JsonElement value, string name)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var number))
        {
            return number;
        }

        if (value.ValueKind == JsonValueKind.String && long.TryParse(value.GetString(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out number))
        {
            return number;
        }

        throw TrackingException.Invalid($"Invalid value {Clip(value.GetRawText())} for parameter '{name}' supplied: expected an integer.");
    }

    private static TrackingException TooLarge() =>
        TrackingException.Invalid($"The request body exceeds MLflow's limit of {TrackingRules.MaxRequestBytes} bytes; split the batch.");

    private static string Clip(string text) => text.Length > 100 ? text[..100] + "…" : text;
}
