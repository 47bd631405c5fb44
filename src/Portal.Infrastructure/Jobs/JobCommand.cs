using System.Globalization;
using System.Text.RegularExpressions;
using Portal.Domain.Jobs;

namespace Portal.Infrastructure.Jobs;

/// <summary>How a job's command line and run folder are put together and read back on this machine.</summary>
internal static partial class JobCommand
{
    public const string ExitFile = ".portal-exit";
    public const string DroppedFile = ".portal-dropped";

    private static readonly HashSet<string> ShellBuiltins = new(StringComparer.Ordinal) { "echo", "exit", "true", "false", "cd", "export", "exec", "sleep", "test", "[", "printf", ":" };

    /// <summary>The first word of a command (what will be executed).</summary>
    public static string ProgramOf(string command)
    {
        var trimmed = command.TrimStart();
        var end = trimmed.IndexOfAny([' ', '\t', '\n', ';', '|', '&']);
        return end < 0 ? trimmed : trimmed[..end];
    }

    /// <summary>The executable a command's program resolves to, or null when there is none.</summary>
    public static string? ResolveProgram(string program, string? codeFolder, string python)
    {
        if (IsPython(program))
        {
            return File.Exists(python) ? python : null;
        }

        if (ShellBuiltins.Contains(program))
        {
            return program;
        }

        if (program.Contains('/', StringComparison.Ordinal))
        {
            if (Path.IsPathRooted(program))
            {
                return File.Exists(program) ? program : null;
            }

            // ./train.sh lives in the code folder that is copied into the run folder.
            return codeFolder is not null && File.Exists(Path.Combine(codeFolder, program)) ? program : null;
        }

        // The job's PATH, not the portal's: what the job will really find.
        foreach (var folder in Local.Isolation.ProcessIsolation.JobPath.Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            if (File.Exists(Path.Combine(folder, program)))
            {
                return Path.Combine(folder, program);
            }
        }

        return null;
    }

    /// <summary>
    /// <c>python</c>/<c>python3</c> become the configured interpreter; <c>${{params.x}}</c> and
    /// <c>${{inputs.x}}</c> are replaced (shell-quoted), as Azure ML commands write them.
    /// </summary>
    public static string Substitute(string command, Job job, IReadOnlyDictionary<string, string> environment, string python)
    {
        var program = ProgramOf(command);
        if (IsPython(program))
        {
            command = Quote(python) + command.TrimStart()[program.Length..];
        }

        return Placeholder().Replace(command, m =>
        {
            var name = m.Groups[2].Value;
            return m.Groups[1].Value == "params"
                ? job.Params.TryGetValue(name, out var value) ? Quote(value) : m.Value
                : environment.TryGetValue($"INPUT_{name.ToUpperInvariant()}", out var path) ? Quote(path) : m.Value;
        });
    }

    [GeneratedRegex(@"\$\{\{\s*(params|inputs)\.([A-Za-z0-9_.\-]+)\s*\}\}")]
    private static partial Regex Placeholder();

    internal static string Quote(string value) => Local.Isolation.ProcessIsolation.ShellQuote(value);

    internal static bool IsPython(string program) => program is "python" or "python3";

    internal static void CopyFolder(string source, string target)
    {
        foreach (var file in Directory.EnumerateFiles(source, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }))
        {
            var relative = Path.GetRelativePath(source, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "__pycache__" or ".git"))
            {
                continue;
            }

            var destination = Path.Combine(target, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(destination)!);
            File.Copy(file, destination, overwrite: true);
        }
    }

    internal static int CompleteUtf8Length(byte[] bytes, int count)
    {
        for (var back = 1; back <= Math.Min(3, count); back++)
        {
            var b = bytes[count - back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }

            var need = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return back < need ? count - back : count;
        }

        return count;
    }

    internal static int? ReadExitCode(string folder) =>
        File.Exists(Path.Combine(folder, ExitFile)) && int.TryParse(File.ReadAllText(Path.Combine(folder, ExitFile)).Trim(), CultureInfo.InvariantCulture, out var code)
            ? code
            : null;

    internal static long ReadDropped(string folder) =>
        File.Exists(Path.Combine(folder, DroppedFile)) && long.TryParse(File.ReadAllText(Path.Combine(folder, DroppedFile)).Trim(), CultureInfo.InvariantCulture, out var dropped)
            ? dropped
            : 0;
}
