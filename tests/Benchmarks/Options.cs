namespace Portal.Benchmarks;

internal static class Options
{
    public static long Long(string[] args, string name, long fallback)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length && long.TryParse(args[at + 1], out var value) ? value : fallback;
    }

    public static bool Flag(string[] args, string name) => args.Contains(name);

    /// <summary>Peak resident set size of this process so far (VmHWM), in MiB.</summary>
    public static double PeakRssMb()
    {
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
            }
        }

        return double.NaN;
    }

    /// <summary>Resets the peak RSS counter so the next phase is measured on its own (Linux: writing 5 to clear_refs).</summary>
    public static void ResetPeakRss()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
