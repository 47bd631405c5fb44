using System.Text;

namespace Portal.Api;

/// <summary>
/// CSV the portal hands out. Cells a spreadsheet would run as a formula (starting with =, +, -, @, tab or
/// carriage return) get a leading apostrophe, as OWASP recommends against CSV injection; numbers stay
/// numbers. RFC 4180 quoting otherwise.
/// </summary>
public static class SafeCsv
{
    public static string Write(IEnumerable<IEnumerable<string?>> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            text.AppendJoin(',', row.Select(Cell)).Append("\r\n");
        }

        return text.ToString();
    }

    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return "";
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            value = "'" + value;
        }

        return value.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
    }
}
