using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Infrastructure.Configuration;

namespace Portal.Infrastructure.Local.Isolation;

/// <summary>
/// Runs work on behalf of people — training jobs now, model servers later — so that it cannot reach the
/// portal: as its own unprivileged OS user (created on first start when the portal runs as root), with an
/// environment made only of what it is given, in a working folder under a work root outside the data
/// folder, and where bubblewrap works, in a sandbox: a read-only system, a private /tmp and process list,
/// the data folder, the work root and the portal's own folders hidden, only its own folder writable.
/// The data folder itself is the portal's alone (0700), so even without the sandbox the operating system
/// refuses a job that reaches for the database, the keys or another run's record.
/// </summary>
public sealed partial class ProcessIsolation
{
    /// <summary>The PATH work gets: the system's programs, nothing from the portal's own PATH.</summary>
    public const string JobPath = "/usr/local/bin:/usr/bin:/bin";

    /// <summary>File in the working folder holding the environment until the sandboxed shell reads (and deletes) it.</summary>
    public const string EnvironmentFile = ".portal-env";

    private const string LauncherPath = "/usr/sbin:/usr/bin:/sbin:/bin";

    // The portal's side of a launch (run as the portal's user): output to the log, the child's exit code to the exit file.
    private const string Wrapper = "exec >>\"$1\" 2>&1 </dev/null; exit_file=$2; shift 2; \"$@\"; code=$?; echo $code > \"$exit_file\"; exit $code";

    // The job's side (run as the job's user, in the sandbox): its environment comes from a file only it can read.
    private const string Loader = ". \"$1\" || exit 125; rm -f -- \"$1\"; exec /bin/sh -c \"$2\"";

    private readonly DataDirectory _data;
    private readonly IsolationOptions _options;
    private readonly string _python;
    private readonly IReadOnlyList<string> _pythonPath;
    private readonly string _contentRoot;
    private readonly ILogger<ProcessIsolation> _logger;
    private (uint UserId, uint GroupId)? _jobAccount;
    private string? _setpriv;

    public ProcessIsolation(DataDirectory data, IOptions<PortalOptions> options, IHostEnvironment environment, ILogger<ProcessIsolation> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(environment);
        _data = data;
        _options = options.Value.Isolation;
        _python = options.Value.Local.Python;
        _pythonPath = options.Value.Local.PythonPath;
        _contentRoot = environment.ContentRootPath;
        _logger = logger;
        WorkRoot = ResolveWorkRoot(_options.WorkRoot, data, environment.ContentRootPath);
        State = new IsolationState(null, null, false, "Isolation has not been set up yet.", true);
    }

    /// <summary>Where working folders live; never inside the data folder.</summary>
    public string WorkRoot { get; }

    public IsolationState State { get; private set; }

    public string WorkFolderOf(string name) => Path.Combine(WorkRoot, name);

    /// <summary>The work root for a data folder: as configured, or one of its own under /var/tmp.</summary>
    internal static string ResolveWorkRoot(string? configured, DataDirectory data, string contentRoot)
    {
        string root;
        if (!string.IsNullOrWhiteSpace(configured))
        {
            root = DataDirectory.ResolveFolder(configured, contentRoot);
        }
        else
        {
            var key = SHA256.HashData(Encoding.UTF8.GetBytes($"{data.Root}:{UnixFiles.EffectiveUserId}"));
            root = Path.Combine("/var/tmp", $"mlops-portal-{Convert.ToHexStringLower(key)[..12]}");
        }

        root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
        if (IsWithin(root, data.Root) || IsWithin(data.Root, root))
        {
            throw new OptionsValidationException("Portal:Isolation", typeof(IsolationOptions),
                [$"Portal:Isolation:WorkRoot ({root}) must be outside the data folder ({data.Root}), and the data folder outside it: jobs get the work root, never the data folder."]);
        }

        return root;
    }

    /// <summary>
    /// Makes the data folder the portal's alone, prepares the job account and the work root, and finds out
    /// what really works here by starting a probe the way a job is started.
    /// </summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        HardenDataFolder();
        if (!UnixFiles.Supported)
        {
            State = new IsolationState(null, null, false, "Jobs are isolated only on Linux; here they run as the portal's own user.", true);
            LogState(State.Summary, State.Problem);
            return;
        }

        var problems = new List<string>();
        _setpriv = Find("setpriv");
        _jobAccount = PrepareAccount(problems);
        foreach (var folder in _pythonPath.Where(f => Directory.Exists(f) && HiddenFolders().Any(h => IsWithin(RealPath(f), h))))
        {
            problems.Add($"Portal:Local:PythonPath names {folder}, which lies in a folder hidden from jobs and model servers; they cannot import from it");
        }

        var workRootProblem = PrepareWorkRoot();
        if (workRootProblem is not null)
        {
            State = new IsolationState(null, null, false, workRootProblem, false);
            LogState(State.Summary, State.Problem);
            return;
        }

        var bubblewrap = _options.Sandbox != SandboxMode.None && File.Exists(_options.Bubblewrap);
        if (_options.Sandbox == SandboxMode.Bubblewrap && !bubblewrap)
        {
            problems.Add($"bubblewrap ({_options.Bubblewrap}) is not installed (Portal:Isolation:Sandbox is Bubblewrap): install the Debian package bubblewrap.");
        }

        string? probe = null;
        if (bubblewrap)
        {
            State = Current(sandboxed: true, problems);
            probe = await ProbeAsync(cancellationToken);
            if (probe is not null)
            {
                problems.Add($"bubblewrap does not work here ({probe})");
                LogProbeFailed("bubblewrap", probe);
            }
        }

        if (!bubblewrap || probe is not null)
        {
            var required = _options.Sandbox == SandboxMode.Bubblewrap;
            State = Current(sandboxed: false, problems) with { CanStart = !required };
            if (!required && await ProbeAsync(cancellationToken) is { } plain)
            {
                problems.Add($"a job could not be started ({plain})");
                State = Current(sandboxed: false, problems) with { CanStart = false };
            }
        }

        if (!State.Isolated)
        {
            problems.Add("jobs can read and write everything the portal can: run the portal as root (so it can create the job user) or install bubblewrap");
        }

        State = State with { Problem = problems.Count == 0 ? null : string.Join("; ", problems) + "." };
        LogState(State.Summary, State.Problem);
    }

    private void LogState(string summary, string? problem)
    {
        if (problem is null)
        {
            LogIsolated(summary);
        }
        else
        {
            LogWeaker(summary, problem);
        }
    }

    private IsolationState Current(bool sandboxed, List<string> problems) =>
        new(_jobAccount is null ? null : _options.User, _jobAccount?.UserId, sandboxed, problems.Count == 0 ? null : string.Join("; ", problems), true);

    /// <summary>The data folder is the portal's alone: its database, keys, artifacts and job records.</summary>
    private void HardenDataFolder()
    {
        if (!UnixFiles.Supported)
        {
            return;
        }

        const UnixFileMode Private = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        try
        {
            Directory.CreateDirectory(_data.Root);
            UnixFiles.SetMode(_data.Root, Private);
            foreach (var folder in new[] { _data.KeysFolder, _data.RunsFolder, _data.ArtifactsFolder })
            {
                Directory.CreateDirectory(folder);
                UnixFiles.SetMode(folder, Private);
            }

            if (File.Exists(_data.DatabaseFile))
            {
                UnixFiles.SetMode(_data.DatabaseFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogHardeningFailed(e, _data.Root);
        }
    }

    private (uint UserId, uint GroupId)? PrepareAccount(List<string> problems)
    {
        var name = _options.User?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        if (!IsAccountName(name) || name == "root")
        {
            problems.Add($"Portal:Isolation:User '{name}' is not an account jobs can run as (lower-case letters, digits, '-' and '_', not root)");
            return null;
        }

        if (!UnixFiles.IsRoot)
        {
            problems.Add($"the portal does not run as root, so jobs cannot run as {name}");
            return null;
        }

        if (_setpriv is null)
        {
            problems.Add("setpriv (util-linux) is missing, so jobs cannot drop to their own user");
            return null;
        }

        if (UnixFiles.Account(name) is null && Find("useradd") is { } useradd)
        {
            using var process = Process.Start(new ProcessStartInfo(useradd,
                ["--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", "--comment", "MLOps Portal jobs", name])
            {
                RedirectStandardError = true,
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode == 0)
            {
                LogCreatedAccount(name);
            }
            else if (UnixFiles.Account(name) is null)
            {
                problems.Add($"the account {name} could not be created: {error.Trim()}");
                return null;
            }
        }

        var account = UnixFiles.Account(name);
        if (account is null)
        {
            problems.Add($"there is no account {name} and useradd is missing");
        }
        else if (account.Value.UserId == 0 || account.Value.UserId == UnixFiles.EffectiveUserId)
        {
            problems.Add($"the account {name} is the portal's own or root; jobs need an account of their own");
            return null;
        }

        return account;
    }

    private string? PrepareWorkRoot()
    {
        try
        {
            Directory.CreateDirectory(WorkRoot);
            var info = UnixFiles.Inspect(WorkRoot);
            if (info.Kind != UnixEntryKind.Directory || info.OwnerId != UnixFiles.EffectiveUserId)
            {
                return $"The work root {WorkRoot} is not a folder owned by the portal's user; jobs cannot start (Portal:Isolation:WorkRoot).";
            }

            // The job's user may pass through to its own folder but not list the others.
            UnixFiles.SetMode(WorkRoot, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | (_jobAccount is null ? 0 : UnixFileMode.GroupExecute | UnixFileMode.OtherExecute));
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return $"The work root {WorkRoot} cannot be used: {e.Message} (Portal:Isolation:WorkRoot).";
        }
    }

    /// <summary>Starts "echo ok" exactly as a job is started; null when it worked, else what went wrong.</summary>
    private async Task<string?> ProbeAsync(CancellationToken cancellationToken)
    {
        var name = $".probe-{Guid.NewGuid():N}";
        var folder = PrepareWorkFolder(name);
        var records = Path.Combine(_data.RunsFolder, name);
        Directory.CreateDirectory(records);
        try
        {
            WriteEnvironment(folder, BaseEnvironment(folder));
            HandOver(folder);
            var log = Path.Combine(records, "probe.log");
            using var process = Process.Start(StartInfo(new SandboxedCommand(folder, "echo ok", new Dictionary<string, string>(), log, Path.Combine(records, "exit"))))!;
            process.StandardInput.Close();
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            await process.WaitForExitAsync(timeout.Token);
            var output = File.Exists(log) ? (await File.ReadAllTextAsync(log, cancellationToken)).Trim() : "";
            return process.ExitCode == 0 && output == "ok" ? null : $"exit code {process.ExitCode}: {Shorten(output)}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException or System.ComponentModel.Win32Exception
                                      or OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            return e.Message;
        }
        finally
        {
            DeleteWorkFolder(folder);
            DeleteWorkFolder(records);
        }
    }

    internal static bool IsWithin(string path, string folder) =>
        path == folder || path.StartsWith(Path.TrimEndingDirectorySeparator(folder) + "/", StringComparison.Ordinal);

    /// <summary>The path with every symbolic link resolved (what bubblewrap mounts over).</summary>
    internal static string RealPath(string path)
    {
        var parts = new Queue<string>(Path.GetFullPath(path).Split('/', StringSplitOptions.RemoveEmptyEntries));
        var current = "/";
        for (var hops = 0; parts.Count > 0 && hops < 64;)
        {
            var next = Path.Combine(current, parts.Dequeue());
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            hops++;
            var resolved = Path.GetFullPath(target, current);
            parts = new Queue<string>(resolved.Split('/', StringSplitOptions.RemoveEmptyEntries).Concat(parts));
            current = "/";
        }

        return current;
    }

    private static bool IsAccountName(string name) =>
        name.Length is > 0 and <= 32 && char.IsAsciiLetterLower(name[0]) && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '_');

    private static string? Find(string program) =>
        LauncherPath.Split(':').Select(folder => Path.Combine(folder, program)).FirstOrDefault(File.Exists);


    private static string Shorten(string text) => text.Length <= 300 ? text : text[..300] + "…";

    [LoggerMessage(Level = LogLevel.Information, Message = "Created the OS account {Account} that jobs run as")]
    private partial void LogCreatedAccount(string account);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jobs cannot use {Sandbox} here: {Problem}")]
    private partial void LogProbeFailed(string sandbox, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "Jobs run {Summary}")]
    private partial void LogIsolated(string summary);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Jobs run {Summary}: {Problem}")]
    private partial void LogWeaker(string summary, string problem);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not make the data folder {DataDirectory} private to the portal")]
    private partial void LogHardeningFailed(Exception exception, string dataDirectory);
}
