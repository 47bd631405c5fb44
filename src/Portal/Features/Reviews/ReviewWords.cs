namespace Portal.Features.Reviews;

public static class ReviewWords
{
    /// <summary>"3 d 4 h", "5 h", "12 min": how long a request has waited.</summary>
    public static string Age(DateTime since, DateTime now)
    {
        var age = now - since;
        return age.TotalDays >= 1 ? $"{(int)age.TotalDays} d {age.Hours} h"
            : age.TotalHours >= 1 ? $"{(int)age.TotalHours} h"
            : $"{Math.Max(0, (int)age.TotalMinutes)} min";
    }
}
