using System.Runtime.InteropServices;

namespace Portal.Infrastructure.Jobs;

/// <summary>
/// Jobs run as the leader of their own process group (started through <c>setsid</c>), so stopping a job
/// signals the group: the shell, the interpreter and whatever they spawned.
/// </summary>
internal static partial class ProcessGroup
{
    public const int SigTerm = 15;
    public const int SigKill = 9;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);

    /// <summary>Signals every process of the group led by <paramref name="leaderPid"/>.</summary>
    public static void Signal(int leaderPid, int signal)
    {
        if (leaderPid > 1)
        {
            _ = Kill(-leaderPid, signal);
        }
    }

    /// <summary>When the process started; one that ended at once has no /proc entry left to read it from, and gets <paramref name="fallback"/>.</summary>
    public static DateTime StartTimeOf(System.Diagnostics.Process process, DateTime fallback)
    {
        try
        {
            return process.StartTime.ToUniversalTime();
        }
        catch (InvalidOperationException)
        {
            return fallback;
        }
    }

    /// <summary>Whether any process of the group is still there.</summary>
    public static bool GroupAlive(int leaderPid) => leaderPid > 1 && Kill(-leaderPid, 0) == 0;

    /// <summary>Whether <paramref name="pid"/> is alive and is the process that started at <paramref name="startedAt"/> (pids are reused).</summary>
    public static bool IsAlive(int pid, DateTime? startedAt)
    {
        if (pid <= 1 || Kill(pid, 0) != 0)
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            if (process.HasExited)
            {
                return false;
            }

            return startedAt is not { } expected || Math.Abs((process.StartTime.ToUniversalTime() - expected).TotalSeconds) < 2;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
