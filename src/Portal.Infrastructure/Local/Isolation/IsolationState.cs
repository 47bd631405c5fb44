namespace Portal.Infrastructure.Local.Isolation;

/// <summary>What a sandboxed process is: its command, its working folder and everything it is given.</summary>
/// <param name="WorkFolder">The only folder it can write (also its HOME); prepared by <see cref="ProcessIsolation.PrepareWorkFolder"/>.</param>
/// <param name="Command">A shell command line, run by /bin/sh in <paramref name="WorkFolder"/>.</param>
/// <param name="Environment">Its whole environment besides PATH, HOME and LANG (nothing of the portal's own).</param>
/// <param name="LogFile">Where stdout and stderr go: a file of the portal's the process cannot reopen or replace.</param>
/// <param name="ExitFile">Where the exit code is written once the process ends, by the portal's side of the launch.</param>
public sealed record SandboxedCommand(string WorkFolder, string Command, IReadOnlyDictionary<string, string> Environment, string LogFile, string ExitFile);

/// <summary>How work started for people is kept from the portal, as found on this machine at start-up.</summary>
/// <param name="UserName">The account it runs as; null when it runs as the portal's own user.</param>
/// <param name="Sandboxed">Whether it runs inside bubblewrap.</param>
/// <param name="Problem">Why isolation is weaker than configured, or why nothing can start; null when all is as configured.</param>
/// <param name="CanStart">False when no process can be started at all (the problem says why).</param>
public sealed record IsolationState(string? UserName, uint? UserId, bool Sandboxed, string? Problem, bool CanStart)
{
    public bool Isolated => UserName is not null || Sandboxed;

    public string Summary => (UserName, Sandboxed) switch
    {
        (not null, true) => $"as OS user {UserName} inside bubblewrap",
        (not null, false) => $"as OS user {UserName} (no sandbox)",
        (null, true) => "as the portal's own OS user inside bubblewrap",
        _ => "as the portal's own OS user without a sandbox (not isolated)",
    };
}
