using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Portal.Domain.Common;

namespace Portal.Infrastructure.Compute;

/// <summary>One line of an Azure cost export, reduced to what reconciliation needs.</summary>
public sealed record CostExportLine(int Line, DateTime Date, string ResourceId, string? Endpoint, string? Deployment, string? Meter, decimal Cost, string Currency);

/// <summary>A parsed export: its format (EA, MCA or FOCUS), currency and lines.</summary>
public sealed record CostExportFile(string Format, string Currency, IReadOnlyList<CostExportLine> Lines);

/// <summary>
/// Reads Azure Cost Management exports by header name, whatever the column order: EA exports
/// (<c>CostInBillingCurrency</c>, <c>BillingCurrencyCode</c>), MCA exports (mixed-case <c>costInBillingCurrency</c>,
/// <c>billingCurrency</c>, a UTF-8 BOM) and FOCUS exports (<c>BilledCost</c>/<c>EffectiveCost</c>,
/// <c>BillingCurrency</c>, <c>ChargePeriodStart</c>, <c>Tags</c> as JSON). Online endpoints are found by their
/// <c>azuremlendpoint</c>/<c>azuremldeployment</c> tags or their resource id. One problem refuses the file.
/// </summary>
public static partial class CostExport
{
    [GeneratedRegex(@"/onlineEndpoints/([^/]+)(?:/deployments/([^/]+))?", RegexOptions.IgnoreCase)]
    private static partial Regex EndpointInResource();

    public static CostExportFile Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var records = Csv(text.TrimStart('\uFEFF'));
        if (records.Count == 0)
        {
            throw new InvalidInputException("file", "file: the export is empty.");
        }

        var header = records[0].Fields.Select(h => h.Trim()).ToArray();
        int Col(params string[] names) => names.Select(n => Array.FindIndex(header, h => string.Equals(h, n, StringComparison.OrdinalIgnoreCase))).FirstOrDefault(i => i >= 0, -1);
        string format;
        int cost, currency, date;
        if (Col("BilledCost") >= 0 || Col("EffectiveCost") >= 0)
        {
            format = "FOCUS";
            cost = Col("EffectiveCost", "BilledCost");
            currency = Col("BillingCurrency");
            date = Col("ChargePeriodStart");
        }
        else if (Col("BillingCurrencyCode") >= 0)
        {
            format = "EA";
            cost = Col("CostInBillingCurrency", "Cost", "PreTaxCost");
            currency = Col("BillingCurrencyCode");
            date = Col("Date", "UsageDateTime");
        }
        else
        {
            format = "MCA";
            cost = Col("costInBillingCurrency", "CostInBillingCurrency");
            currency = Col("billingCurrency");
            date = Col("date");
        }

        var resource = Col("ResourceId", "InstanceId");
        var tags = Col("Tags");
        var meter = Col("MeterCategory", "ServiceName", "meterCategory");
        var missing = new (int Column, string Name)[]
        {
            (cost, format == "FOCUS" ? "BilledCost or EffectiveCost" : format == "EA" ? "CostInBillingCurrency" : "costInBillingCurrency"),
            (currency, format == "FOCUS" ? "BillingCurrency" : format == "EA" ? "BillingCurrencyCode" : "billingCurrency"),
            (date, format == "FOCUS" ? "ChargePeriodStart" : "Date"),
            (resource, "ResourceId"),
        }.Where(c => c.Column < 0).Select(c => c.Name).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidInputException("file", $"line 1: this is not an Azure cost export the portal reads: it has no {string.Join(", ", missing)} column. Export actual cost (EA or MCA) or FOCUS from Cost Management.");
        }

        var errors = new FieldErrors();
        var lines = new List<CostExportLine>(records.Count);
        string? fileCurrency = null;
        foreach (var (number, fields, closed) in records.Skip(1))
        {
            if (!closed || fields.Length < header.Length)
            {
                errors.Add("file", $"line {number}: {(closed ? $"{fields.Length} fields where the header has {header.Length}" : "a quoted field is not closed")}; is the file cut short?");
                continue;
            }

            var code = fields[currency].Trim();
            fileCurrency ??= code;
            if (!string.Equals(code, fileCurrency, StringComparison.OrdinalIgnoreCase))
            {
                errors.Add(header[currency], $"line {number}, {header[currency]}: {Names.Visible(code)} where the lines before are in {fileCurrency}; import one currency per file.");
                continue;
            }

            if (!decimal.TryParse(fields[cost].Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var amount))
            {
                errors.Add(header[cost], $"line {number}, {header[cost]}: '{Names.Visible(Short(fields[cost]))}' is not an amount.");
                continue;
            }

            if (!TryDate(fields[date].Trim(), out var day))
            {
                errors.Add(header[date], $"line {number}, {header[date]}: '{Names.Visible(Short(fields[date]))}' is not a date.");
                continue;
            }

            var id = fields[resource].Trim();
            var tagged = tags >= 0 ? Tags(fields[tags]) : [];
            var inResource = EndpointInResource().Match(id);
            var endpoint = tagged.GetValueOrDefault("azuremlendpoint") ?? (inResource.Success ? inResource.Groups[1].Value : null);
            var deployment = tagged.GetValueOrDefault("azuremldeployment") ?? (inResource.Success && inResource.Groups[2].Success ? inResource.Groups[2].Value : null);
            lines.Add(new CostExportLine(number, day, id, endpoint, deployment, meter >= 0 ? fields[meter].Trim() : null, amount, code.ToUpperInvariant()));
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        if (lines.Count == 0)
        {
            throw new InvalidInputException("file", "file: the export has a header but no lines.");
        }

        return new CostExportFile(format, fileCurrency!.ToUpperInvariant(), lines);
    }

    private static string Short(string value) => value.Length > 40 ? value[..40] : value;

    private static bool TryDate(string text, out DateTime date)
    {
        string[] formats = ["MM/dd/yyyy", "M/d/yyyy", "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ssZ", "yyyy-MM-ddTHH:mm:ss.fffZ", "yyyy-MM-ddTHH:mm:ss", "yyyyMMdd"];
        if (DateTime.TryParseExact(text, formats, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out date))
        {
            date = DateTime.SpecifyKind(date.Date, DateTimeKind.Utc);
            return true;
        }

        return false;
    }

    /// <summary>FOCUS writes tags as a JSON object; EA and MCA as its inside (<c>"k": "v","k2": "v2"</c>).</summary>
    private static Dictionary<string, string> Tags(string text)
    {
        var trimmed = text.Trim();
        if (trimmed.Length == 0)
        {
            return [];
        }

        var json = trimmed.StartsWith('{') ? trimmed : "{" + trimmed + "}";
        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.EnumerateObject().ToDictionary(p => p.Name.ToLowerInvariant(), p => p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString() ?? "" : p.Value.GetRawText(), StringComparer.Ordinal);
        }
        catch (JsonException)
        {
            return [];
        }
    }

    /// <summary>RFC 4180 records: quoted fields may hold commas, doubled quotes and line breaks.</summary>
    private static List<(int Line, string[] Fields, bool Closed)> Csv(string text)
    {
        var records = new List<(int, string[], bool)>();
        var fields = new List<string>();
        var field = new StringBuilder();
        var quoted = false;
        var line = 1;
        var start = 1;
        var any = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c == '"' && i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i++;
                }
                else if (c == '"')
                {
                    quoted = false;
                }
                else
                {
                    if (c == '\n')
                    {
                        line++;
                    }

                    field.Append(c);
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    quoted = true;
                    any = true;
                    break;
                case ',':
                    fields.Add(field.ToString());
                    field.Clear();
                    any = true;
                    break;
                case '\r':
                    break;
                case '\n':
                    if (any || field.Length > 0)
                    {
                        fields.Add(field.ToString());
                        records.Add((start, fields.ToArray(), true));
                    }

                    fields.Clear();
                    field.Clear();
                    any = false;
                    line++;
                    start = line;
                    break;
                default:
                    field.Append(c);
                    any = true;
                    break;
            }
        }

        if (any || field.Length > 0 || quoted)
        {
            fields.Add(field.ToString());
            records.Add((start, fields.ToArray(), !quoted));
        }

        return records;
    }
}
