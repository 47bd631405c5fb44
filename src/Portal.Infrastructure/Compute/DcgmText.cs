using System.Globalization;
using System.Text;
using Portal.Domain.Common;
using Portal.Domain.Compute;

namespace Portal.Infrastructure.Compute;

/// <summary>
/// Reads the DCGM exporter's Prometheus text. One reading per GPU (or MIG instance) is put together from the
/// metrics the portal uses; the rest are skipped. "Busy" is <c>DCGM_FI_PROF_GR_ENGINE_ACTIVE</c> (0–1) when
/// present — NVIDIA calls <c>DCGM_FI_DEV_GPU_UTIL</c> outdated and MIG instances do not have it — else
/// <c>DCGM_FI_DEV_GPU_UTIL</c> ÷ 100. The exporter's "blank" sentinels (values near 2^31, 2^47 or 2^63) mean
/// "no value" and are dropped.
/// </summary>
public static class DcgmText
{
    private const string EngineActive = "DCGM_FI_PROF_GR_ENGINE_ACTIVE";
    private const string GpuUtil = "DCGM_FI_DEV_GPU_UTIL";
    private const string FbUsed = "DCGM_FI_DEV_FB_USED";
    private const string FbFree = "DCGM_FI_DEV_FB_FREE";
    private const string FbTotal = "DCGM_FI_DEV_FB_TOTAL";
    private const string Power = "DCGM_FI_DEV_POWER_USAGE";
    private const string Energy = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";
    private const string Temperature = "DCGM_FI_DEV_GPU_TEMP";

    private static readonly HashSet<string> Used = new(StringComparer.Ordinal) { EngineActive, GpuUtil, FbUsed, FbFree, FbTotal, Power, Energy, Temperature };

    /// <summary>DCGM_INT32_BLANK (0x7ffffff0): int32 fields at or above it carry no value.</summary>
    private const double Int32Blank = 2147483632;

    /// <summary>DCGM_FP64_BLANK (2^47); the int64 blanks (near 2^63) are above it too.</summary>
    private const double Fp64Blank = 140737488355328.0;

    public static bool LooksLikeDcgm(string text) => text.Contains("DCGM_FI_", StringComparison.Ordinal);

    /// <summary>Readings in <paramref name="text"/>; a line without a timestamp is taken at <paramref name="scrapedAt"/>.</summary>
    public static IReadOnlyList<GpuReading> Parse(string text, DateTime scrapedAt)
    {
        ArgumentNullException.ThrowIfNull(text);
        var errors = new FieldErrors();
        var series = new Dictionary<(string Host, string Uuid, string? Instance), Builder>();
        var number = 0;
        foreach (var raw in text.TrimStart('\uFEFF').Split('\n'))
        {
            number++;
            var line = raw.TrimEnd('\r').Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (!TryParseLine(line, out var metric, out var labels, out var value, out var timestamp, out var problem))
            {
                errors.Add("body", $"line {number}: {problem}");
                continue;
            }

            if (!Used.Contains(metric))
            {
                continue;
            }

            var uuid = Label(labels, "UUID") ?? Label(labels, "uuid");
            if (string.IsNullOrEmpty(uuid))
            {
                errors.Add("UUID", $"line {number}, UUID: {metric} has no UUID label, so it cannot be told which GPU it is.");
                continue;
            }

            var host = Label(labels, "Hostname") ?? Label(labels, "hostname") ?? "";
            var instance = Label(labels, "GPU_I_ID") is { Length: > 0 } id ? id : null;
            if (!series.TryGetValue((host, uuid, instance), out var builder))
            {
                builder = series[(host, uuid, instance)] = new Builder(number, uuid, instance, host, labels);
            }

            var blank = metric == Energy ? value >= Fp64Blank : value >= Int32Blank;
            if (blank || double.IsNaN(value))
            {
                continue;
            }

            if (double.IsInfinity(value))
            {
                errors.Add(metric, $"line {number}, {metric}: {value.ToString(CultureInfo.InvariantCulture)} is not a reading.");
                continue;
            }

            builder.Set(metric, value);
            if (timestamp is { } ms)
            {
                builder.Time = DateTime.UnixEpoch.AddMilliseconds(ms);
            }
        }

        if (!errors.IsEmpty)
        {
            throw new InvalidInputException(errors);
        }

        return series.Values.Select(b => b.Build(scrapedAt)).ToList();
    }

    private static string? Label(Dictionary<string, string> labels, string name) => labels.TryGetValue(name, out var value) ? value : null;

    private sealed class Builder(int line, string uuid, string? instance, string host, Dictionary<string, string> labels)
    {
        private readonly Dictionary<string, double> _values = new(StringComparer.Ordinal);

        public DateTime? Time { get; set; }

        public void Set(string metric, double value) => _values[metric] = value;

        private double? Get(string metric) => _values.TryGetValue(metric, out var v) ? v : null;

        public GpuReading Build(DateTime scrapedAt)
        {
            var busy = Get(EngineActive) ?? Get(GpuUtil) / 100;
            var used = Get(FbUsed);
            var total = Get(FbTotal) ?? (used is { } u && Get(FbFree) is { } free ? u + free : null);
            var pod = Label(labels, "pod") ?? Label(labels, "pod_name");
            var ns = Label(labels, "namespace") ?? Label(labels, "pod_namespace");
            return new GpuReading
            {
                Uuid = uuid,
                MigInstance = instance,
                MigProfile = Label(labels, "GPU_I_PROFILE") is { Length: > 0 } profile ? profile : null,
                Index = int.TryParse(Label(labels, "gpu"), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null,
                Name = Label(labels, "modelName"),
                Time = Time ?? scrapedAt,
                Busy = busy,
                MemoryUsedMiB = used,
                MemoryTotalMiB = total,
                PowerW = Get(Power),
                EnergyCounterJ = Get(Energy) / 1000,
                TemperatureC = Get(Temperature),
                Host = host.Length > 0 ? host : null,
                Job = Label(labels, "hpc_job") is { Length: > 0 } job ? job : null,
                Pod = string.IsNullOrEmpty(pod) ? null : string.IsNullOrEmpty(ns) ? pod : $"{ns}/{pod}",
                Line = line,
            };
        }
    }

    /// <summary>
    /// <c>name{label="value",…} value [timestamp]</c>. Label values may hold escaped quotes, backslashes and
    /// newlines, and commas or braces inside quotes.
    /// </summary>
    internal static bool TryParseLine(string line, out string metric, out Dictionary<string, string> labels, out double value, out long? timestamp, out string problem)
    {
        labels = new Dictionary<string, string>(StringComparer.Ordinal);
        value = 0;
        timestamp = null;
        problem = "";
        var i = 0;
        while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] is '_' or ':'))
        {
            i++;
        }

        metric = line[..i];
        if (metric.Length == 0 || char.IsAsciiDigit(metric[0]))
        {
            problem = "expected a metric name at the start of the line.";
            return false;
        }

        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (true)
            {
                while (i < line.Length && line[i] is ' ' or ',')
                {
                    i++;
                }

                if (i < line.Length && line[i] == '}')
                {
                    i++;
                    break;
                }

                var nameStart = i;
                while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_'))
                {
                    i++;
                }

                var name = line[nameStart..i];
                if (name.Length == 0 || i + 1 >= line.Length || line[i] != '=' || line[i + 1] != '"')
                {
                    problem = $"{metric}: a label must be written name=\"value\" (at column {i + 1}).";
                    return false;
                }

                i += 2;
                var text = new StringBuilder();
                var closed = false;
                while (i < line.Length)
                {
                    var c = line[i++];
                    if (c == '\\' && i < line.Length)
                    {
                        var next = line[i++];
                        text.Append(next == 'n' ? '\n' : next);
                    }
                    else if (c == '"')
                    {
                        closed = true;
                        break;
                    }
                    else
                    {
                        text.Append(c);
                    }
                }

                if (!closed)
                {
                    problem = $"{metric}: the value of label {name} is not closed with a quote; is the line cut short?";
                    return false;
                }

                labels[name] = text.ToString();
            }
        }

        var rest = line[i..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (rest.Length is 0 or > 2)
        {
            problem = rest.Length == 0 ? $"{metric}: the line has no value; is it cut short?" : $"{metric}: expected a value and an optional timestamp after the labels.";
            return false;
        }

        var parsed = rest[0] switch
        {
            "NaN" => double.NaN,
            "+Inf" or "Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            var v when double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => d,
            _ => (double?)null,
        };
        if (parsed is null)
        {
            problem = $"{metric}: '{Names.Visible(rest[0].Length > 40 ? rest[0][..40] : rest[0])}' is not a number.";
            return false;
        }

        value = parsed.Value;
        if (rest.Length == 2)
        {
            if (!long.TryParse(rest[1], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var ms))
            {
                problem = $"{metric}: '{Names.Visible(rest[1])}' is not a timestamp in milliseconds.";
                return false;
            }

            timestamp = ms;
        }

        return true;
    }
}
