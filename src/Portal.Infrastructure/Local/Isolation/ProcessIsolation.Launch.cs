using System.Diagnostics;
using System.Text;
using Portal.Infrastructure.Configuration;

namespace Portal.Infrastructure.Local.Isolation;

/// <summary>How a job is started: the portal's side of the launch, the drop to the job's account, the sandbox.</summary>
public sealed partial class ProcessIsolation
{
    /// <summary>How to start <paramref name="command"/>: setsid, the portal's wrapper, then the drop to the job's user and the sandbox.</summary>
    public ProcessStartInfo StartInfo(SandboxedCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        if (!State.CanStart)
        {
            throw new InvalidOperationException($"Jobs cannot start on this machine: {State.Problem}");
        }

        var start = new ProcessStartInfo("setsid")
        {
            WorkingDirectory = command.WorkFolder,
            UseShellExecute = false,
            RedirectStandardInput = true,
        };
        // The portal's side of the launch gets nothing of the portal's environment either.
        start.Environment.Clear();
        start.Environment["PATH"] = LauncherPath;
        start.Environment["LANG"] = "C.UTF-8";
        foreach (var argument in Launch(command))
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }

    /// <summary>
    /// The environment every job and model server has before its own variables: PATH, HOME (its folder), LANG,
    /// and PYTHONPATH when <c>Portal:Local:PythonPath</c> names folders.
    /// </summary>
    public Dictionary<string, string> BaseEnvironment(string workFolder)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["PATH"] = JobPath,
            ["HOME"] = workFolder,
            ["LANG"] = "C.UTF-8",
        };
        if (_pythonPath.Count > 0)
        {
            environment["PYTHONPATH"] = string.Join(':', _pythonPath);
        }

        return environment;
    }

    private IEnumerable<string> Launch(SandboxedCommand command)
    {
        yield return "/bin/sh";
        yield return "-c";
        yield return Wrapper;
        yield return "portal-job";
        yield return command.LogFile;
        yield return command.ExitFile;
        if (_jobAccount is { } account)
        {
            foreach (var argument in new[]
            {
                _setpriv!, $"--reuid={account.UserId}", $"--regid={account.GroupId}", "--clear-groups",
                "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--",
            })
            {
                yield return argument;
            }
        }

        if (State.Sandboxed)
        {
            foreach (var argument in SandboxArguments(command.WorkFolder))
            {
                yield return argument;
            }
        }

        yield return "/bin/sh";
        yield return "-c";
        yield return Loader;
        yield return "portal-env";
        yield return Path.Combine(command.WorkFolder, EnvironmentFile);
        yield return command.Command;
    }

    /// <summary>bubblewrap: the system read-only, private /dev, /proc, /tmp, IPC and hostname, the portal's folders hidden, one folder writable.</summary>
    internal IReadOnlyList<string> SandboxArguments(string workFolder)
    {
        var arguments = new List<string>
        {
            _options.Bubblewrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp",
        };
        var hidden = HiddenFolders();
        foreach (var folder in hidden)
        {
            arguments.AddRange(["--tmpfs", folder]);
        }

        arguments.AddRange(["--bind", workFolder, workFolder]);
        // Hidden folders stay empty: read-only once the job's own folder is bound (that mount stays writable).
        foreach (var folder in hidden)
        {
            arguments.AddRange(["--remount-ro", folder]);
        }

        arguments.AddRange(["--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
            "--hostname", "portal-job", "--chdir", workFolder, "--"]);
        return arguments;
    }

    /// <summary>
    /// The folders a job must not see, as real paths, outermost first: the data folder, the work root (its own
    /// folder is bound back), the portal's application, content and repository folders (appsettings.json
    /// lives there), root's and the portal user's home, container secrets, and the configured extras — never
    /// one holding the Python interpreter.
    /// </summary>
    internal IReadOnlyList<string> HiddenFolders()
    {
        var candidates = new List<string?>
        {
            _data.Root, WorkRoot, _contentRoot, DataDirectory.FindRepositoryRoot(_contentRoot), AppContext.BaseDirectory, "/root", "/run/secrets", "/var/run/secrets",
        };
        if (_jobAccount is null)
        {
            candidates.Add(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile));
        }

        candidates.AddRange(_options.HiddenPaths);
        var python = RealPath(_python);
        var chosen = new List<string>();
        foreach (var folder in candidates.Where(c => !string.IsNullOrWhiteSpace(c) && Directory.Exists(c)).Select(c => RealPath(c!))
                     .Distinct(StringComparer.Ordinal).OrderBy(c => c.Length))
        {
            if (folder == "/" || IsWithin(python, folder) || IsWithin(folder, "/tmp") || chosen.Any(c => IsWithin(folder, c)))
            {
                continue;
            }

            chosen.Add(folder);
        }

        return chosen;
    }


    /// <summary>Writes what the sandboxed shell will export, readable only by whoever owns the folder.</summary>
    public static void WriteEnvironment(string workFolder, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var text = new StringBuilder();
        foreach (var (name, value) in environment)
        {
            text.Append("export ").Append(name).Append('=').Append(ShellQuote(value)).Append('\n');
        }

        var path = Path.Combine(workFolder, EnvironmentFile);
        File.WriteAllText(path, text.ToString());
        UnixFiles.SetMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    /// <summary>A value as one shell word, whatever it holds.</summary>
    internal static string ShellQuote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
