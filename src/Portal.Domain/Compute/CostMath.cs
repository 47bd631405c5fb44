namespace Portal.Domain.Compute;

/// <summary>A month-end forecast: the likely total and a 95 % range around it.</summary>
public sealed record BudgetForecast(decimal Spent, decimal Projected, decimal Low, decimal High, decimal DailyRate, bool FewDays);

/// <summary>The arithmetic of cost and efficiency, kept where it can be tested alone and never divides by zero.</summary>
public static class CostMath
{
    /// <summary>Busy GPU time ÷ allocated GPU time (OpenCost's efficiency); null when nothing was allocated.</summary>
    public static double? Efficiency(double busySeconds, double allocatedSeconds) =>
        allocatedSeconds > 0 ? Math.Clamp(busySeconds / allocatedSeconds, 0, 1) : null;

    /// <summary>The cost of allocated time that was not busy.</summary>
    public static decimal IdleCost(decimal cost, double busySeconds, double allocatedSeconds) =>
        allocatedSeconds > 0 ? cost * (decimal)(1 - Math.Clamp(busySeconds / allocatedSeconds, 0, 1)) : 0m;

    /// <summary>
    /// Month-end spending if the burn rate so far goes on. <paramref name="dailyCosts"/> holds each day of the
    /// month so far, today last (partial). The range treats each remaining day as a draw from the complete days
    /// seen: ±1.96 standard deviations of their sum. With under three complete days there is too little to
    /// measure spread; the range is then ±50 % of what remains, and <see cref="BudgetForecast.FewDays"/> says so.
    /// </summary>
    public static BudgetForecast Forecast(IReadOnlyList<decimal> dailyCosts, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(dailyCosts);
        var monthStart = new DateTime(now.Year, now.Month, 1, 0, 0, 0, DateTimeKind.Utc);
        var daysInMonth = DateTime.DaysInMonth(now.Year, now.Month);
        var elapsedDays = Math.Max((now - monthStart).TotalDays, 1.0 / 24);
        var remainingDays = Math.Max(daysInMonth - elapsedDays, 0);
        var spent = dailyCosts.Sum();
        var rate = spent / (decimal)elapsedDays;
        var projected = spent + rate * (decimal)remainingDays;
        var complete = dailyCosts.Take(Math.Max(dailyCosts.Count - 1, 0)).Select(c => (double)c).ToList();
        decimal spread;
        var few = complete.Count < 3;
        if (few)
        {
            spread = rate * (decimal)remainingDays * 0.5m;
        }
        else
        {
            var mean = complete.Average();
            var variance = complete.Sum(c => (c - mean) * (c - mean)) / (complete.Count - 1);
            spread = (decimal)(1.96 * Math.Sqrt(variance * remainingDays));
        }

        return new BudgetForecast(spent, projected, Math.Max(spent, projected - spread), projected + spread, rate, few);
    }
}
