using System.Globalization;
using Portal.Domain.Experiments;

namespace Portal.Features.Experiments;

/// <summary>How runs' numbers and times read in tables.</summary>
public static class RunFormat
{
    public static string Number(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "∞" : "-∞") : value.ToString("G5", CultureInfo.InvariantCulture);

    public static string Duration(Run run) => Duration((run.EndTime ?? (run.Status == RunStatus.Running ? DateTime.UtcNow : run.StartTime)) - run.StartTime);

    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 60 ? $"{span.TotalSeconds:0.#} s"
        : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
        : $"{(int)span.TotalHours} h {span.Minutes} min";
}
