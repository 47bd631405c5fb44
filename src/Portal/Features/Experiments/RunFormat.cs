using System.Globalization;
using Portal.Domain.Experiments;

namespace Portal.Features.Experiments;

/// <summary>How runs' numbers and times read in tables.</summary>
public static class RunFormat
{
    public static string Number(double value) =>
        double.IsNaN(value) ? "NaN" : double.IsInfinity(value) ? (value > 0 ? "∞" : "-∞") : value.ToString("G5", CultureInfo.InvariantCulture);

    /// <summary>How long the run took, or has taken so far when it is still running at <paramref name="now"/>.</summary>
    public static string Duration(Run run, DateTime now) => Duration((run.EndTime ?? (run.Status == RunStatus.Running ? now : run.StartTime)) - run.StartTime);

    public static string Duration(TimeSpan span) =>
        span.TotalSeconds < 60 ? $"{span.TotalSeconds:0.#} s"
        : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes} min {span.Seconds} s"
        : $"{(int)span.TotalHours} h {span.Minutes} min";
}
