using System.Text;

namespace Portal.Infrastructure.Local.Serving;

/// <summary>An instance's output (stdout and stderr): appended by its launcher, kept to its newest part, read from the end.</summary>
internal static class InstanceLog
{
    public const long MaxBytes = 2 * 1024 * 1024;
    private const int KeepBytes = 256 * 1024;

    /// <summary>The last <paramref name="maxBytes"/> of the log, starting at a whole line.</summary>
    public static string Tail(string path, int maxBytes)
    {
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var start = Math.Max(0, file.Length - maxBytes);
            file.Seek(start, SeekOrigin.Begin);
            var buffer = new byte[file.Length - start];
            file.ReadExactly(buffer);
            var text = Encoding.UTF8.GetString(buffer);
            return start > 0 && text.IndexOf('\n', StringComparison.Ordinal) is var newline and >= 0 ? text[(newline + 1)..] : text;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "";
        }
    }

    /// <summary>The last few lines, for a reason shown on the deployment.</summary>
    public static string LastLines(string path, int lines = 12)
    {
        var tail = Tail(path, 8 * 1024).TrimEnd();
        var all = tail.Split('\n');
        var last = string.Join('\n', all.Skip(Math.Max(0, all.Length - lines)));
        return last.Length <= 1500 ? last : "…" + last[^1500..];
    }

    /// <summary>
    /// Keeps the newest part of a log that grew past <see cref="MaxBytes"/>. The instance appends (O_APPEND),
    /// so after the file is rewritten its next writes land at the new end.
    /// </summary>
    public static void Trim(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length <= MaxBytes)
            {
                return;
            }

            var tail = Tail(path, KeepBytes);
            using var file = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            file.SetLength(0);
            var bytes = Encoding.UTF8.GetBytes($"[… {info.Length - KeepBytes:N0} earlier bytes dropped …]\n{tail}");
            file.Write(bytes);
        }
        catch (IOException)
        {
            // Tried again at the next heartbeat.
        }
    }
}
