using System.Globalization;
using Portal.Domain.Common;
using Portal.Domain.Compute;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Reads what <c>nvidia-smi --query-gpu=… --format=csv</c> and <c>--query-compute-apps=… --format=csv</c>
/// print: with or without the header line (<c>noheader</c>), with or without units (<c>nounits</c>: "100 %"
/// or "100"), fields separated by ", ", missing values written <c>[N/A]</c>, <c>[Not Supported]</c>,
/// <c>[Insufficient Permissions]</c>, <c>[Unknown Error]</c> or left empty, and timestamps
/// <c>YYYY/MM/DD HH:MM:SS.mmm</c> in the host's time zone. A problem refuses the whole body, naming the line
/// and the field.
/// </summary>
public static class NvidiaSmiCsv
{
    /// <summary>The fields the portal asks for, in the order it asks (and expects without a header).</summary>
    public static readonly IReadOnlyList<string> GpuFields =
        ["timestamp", "index", "uuid", "name", "utilization.gpu", "memory.used", "memory.total", "power.draw", "temperature.gpu"];

    public static readonly IReadOnlyList<string> AppFields = ["timestamp", "gpu_uuid", "pid", "process_name", "used_gpu_memory"];

    public static string GpuQueryArguments => $"--query-gpu={string.Join(',', GpuFields)} --format=csv";

    public static string AppQueryArguments => $"--query-compute-apps={string.Join(',', AppFields)} --format=csv";

    private static readonly string[] Missing = ["[N/A]", "N/A", "[Not Supported]", "[Insufficient Permissions]", "[Unknown Error]", "[GPU is lost]", "[Not Found]", ""];

    /// <summary>Whether <paramref name="text"/> looks like nvidia-smi's CSV (its header, or a first row that starts with a timestamp).</summary>
    public static bool LooksLikeCsv(string text)
    {
        var first = FirstLine(text);
        return first.StartsWith("timestamp", StringComparison.OrdinalIgnoreCase) || first.StartsWith("index", StringComparison.OrdinalIgnoreCase)
            || (first.Length > 10 && char.IsAsciiDigit(first[0]) && first[4] == '/');
    }

    /// <summary>Whether the body is the compute-apps query (its header names gpu_uuid and pid).</summary>
    public static bool IsAppsQuery(string text)
    {
        var first = FirstLine(text);
        return first.Contains("gpu_uuid", StringComparison.OrdinalIgnoreCase) && first.Contains("pid", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>The rows of <c>--query-gpu</c>.</summary>
    public static IReadOnlyList<GpuReading> ParseGpus(string text, TimeZoneInfo hostZone)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = Lines(text);
        var fields = GpuFields.ToArray();
        var start = 0;
        if (lines.Count > 0 && IsHeader(lines[0].Text))
        {
            fields = lines[0].Text.Split(',').Select(HeaderName).ToArray();
            var missing = new[] { "timestamp", "uuid" }.Where(f => !fields.Contains(f, StringComparer.Ordinal)).ToList();
            if (missing.Count > 0)
            {
                throw new InvalidInputException(missing[0], $"line {lines[0].Number}, {missing[0]}: the header must name {string.Join(" and ", missing)}; query {GpuQueryArguments}.");
            }

            start = 1;
        }

        var errors = new FieldErrors();
        var readings = new List<GpuReading>(lines.Count);
        for (var i = start; i < lines.Count; i++)
        {
            var (number, line) = lines[i];
            var values = line.Split(',');
            if (values.Length != fields.Length)
            {
                errors.Add("body", $"line {number}: {values.Length} fields where the header has {fields.Length}; is the line cut short?");
                continue;
            }

            var row = new Row(number, fields, values, errors);
            var uuid = row.Text("uuid");
            var utilization = row.Number("utilization.gpu");
            readings.Add(new GpuReading
            {
                Uuid = uuid ?? "",
                Index = row.Integer("index"),
                Name = row.Text("name"),
                Time = row.Time("timestamp", hostZone),
                Busy = utilization / 100,
                MemoryUsedMiB = row.Number("memory.used"),
                MemoryTotalMiB = row.Number("memory.total"),
                PowerW = row.Number("power.draw"),
                TemperatureC = row.Number("temperature.gpu"),
                Line = number,
            });
            if (uuid is null)
            {
                errors.Add("uuid", $"line {number}, uuid: every row needs the GPU's UUID.");
            }
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return readings;
    }

    /// <summary>
    /// The rows of <c>--query-compute-apps</c>: nothing but the header when no process uses a GPU. A process
    /// name may hold commas, so the fixed fields are taken from both ends and the name is what lies between.
    /// </summary>
    public static IReadOnlyList<GpuProcess> ParseApps(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var lines = Lines(text);
        var start = lines.Count > 0 && IsHeader(lines[0].Text) ? 1 : 0;
        var errors = new FieldErrors();
        var processes = new List<GpuProcess>();
        for (var i = start; i < lines.Count; i++)
        {
            var (number, line) = lines[i];
            var values = line.Split(',');
            if (values.Length < AppFields.Count)
            {
                errors.Add("body", $"line {number}: {values.Length} fields where a compute-apps row has {AppFields.Count}; is the line cut short?");
                continue;
            }

            var uuid = values[1].Trim();
            if (!int.TryParse(values[2].Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            {
                errors.Add("pid", $"line {number}, pid: '{Names.Visible(values[2].Trim())}' is not a process id.");
                continue;
            }

            var name = string.Join(',', values[3..^1]).Trim();
            var memory = new Row(number, ["used_gpu_memory"], [values[^1]], errors).Number("used_gpu_memory");
            processes.Add(new GpuProcess(uuid, pid, name, memory, number));
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return processes;
    }

    private static bool IsHeader(string line) => line.StartsWith("timestamp", StringComparison.OrdinalIgnoreCase)
        || line.StartsWith("index", StringComparison.OrdinalIgnoreCase) || line.StartsWith("uuid", StringComparison.OrdinalIgnoreCase)
        || line.StartsWith("gpu_uuid", StringComparison.OrdinalIgnoreCase) || line.StartsWith("name", StringComparison.OrdinalIgnoreCase);

    /// <summary>"utilization.gpu [%]" → "utilization.gpu".</summary>
    private static string HeaderName(string header)
    {
        var name = header.Trim();
        var unit = name.IndexOf(" [", StringComparison.Ordinal);
        return (unit >= 0 ? name[..unit] : name).ToLowerInvariant();
    }

    private static string FirstLine(string text)
    {
        var trimmed = text.TrimStart('\uFEFF', ' ', '\r', '\n', '\t');
        var end = trimmed.IndexOf('\n', StringComparison.Ordinal);
        return (end < 0 ? trimmed : trimmed[..end]).Trim();
    }

    private static List<(int Number, string Text)> Lines(string text)
    {
        var lines = new List<(int, string)>();
        var number = 0;
        foreach (var raw in text.TrimStart('\uFEFF').Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r');
            if (!string.IsNullOrWhiteSpace(line))
            {
                lines.Add((number, line));
            }
        }

        return lines;
    }

    internal static bool IsMissing(string value) => Missing.Contains(value, StringComparer.OrdinalIgnoreCase);

    /// <summary>One row's values by field name; problems go into the body's errors.</summary>
    private readonly struct Row(int number, string[] fields, string[] values, FieldErrors errors)
    {
        private string? Raw(string field)
        {
            var at = Array.IndexOf(fields, field);
            if (at < 0)
            {
                return null;
            }

            var value = values[at].Trim();
            return IsMissing(value) ? null : value;
        }

        public string? Text(string field) => Raw(field);

        public double? Number(string field)
        {
            var value = Raw(field);
            if (value is null)
            {
                return null;
            }

            // "627.40 W", "100 %", "70592 MiB": the number is what comes before the unit.
            var space = value.IndexOf(' ', StringComparison.Ordinal);
            var digits = space > 0 ? value[..space] : value;
            if (double.TryParse(digits, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) && double.IsFinite(parsed))
            {
                return parsed;
            }

            errors.Add(field, $"line {number}, {field}: '{Names.Visible(value.Length > 40 ? value[..40] : value)}' is not a number.");
            return null;
        }

        public int? Integer(string field)
        {
            var value = Number(field);
            return value is { } v ? (int)v : null;
        }

        public DateTime Time(string field, TimeZoneInfo zone)
        {
            var value = Raw(field);
            if (value is null)
            {
                errors.Add(field, $"line {number}, {field}: every row needs its timestamp.");
                return default;
            }

            string[] formats = ["yyyy/MM/dd HH:mm:ss.fff", "yyyy/MM/dd HH:mm:ss", "yyyy-MM-dd HH:mm:ss.fff", "yyyy-MM-dd HH:mm:ss"];
            if (!DateTime.TryParseExact(value, formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
            {
                errors.Add(field, $"line {number}, {field}: '{Names.Visible(value.Length > 40 ? value[..40] : value)}' is not a time like 2026/12/08 14:03:07.123.");
                return default;
            }

            try
            {
                return TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local, DateTimeKind.Unspecified), zone);
            }
            catch (ArgumentException)
            {
                // A local time skipped by a daylight-saving change: an hour later is the same instant.
                return TimeZoneInfo.ConvertTimeToUtc(DateTime.SpecifyKind(local.AddHours(1), DateTimeKind.Unspecified), zone);
            }
        }
    }
}
