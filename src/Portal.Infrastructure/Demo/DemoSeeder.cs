using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Demo;

/// <summary>
/// Seeds demo data into a data folder that started empty with demo mode on. Steps that people need at
/// once run before start-up; the rest run in the background and report progress live.
/// </summary>
public sealed partial class DemoSeeder(
    IServiceScopeFactory scopes,
    IDbContextFactory<PortalDbContext> dbFactory,
    IEnumerable<IDemoSeedStep> steps,
    IOptions<PortalOptions> options,
    DataDirectory data,
    IEventBus bus,
    TimeProvider time,
    ILogger<DemoSeeder> logger)
{
    private readonly IReadOnlyList<IDemoSeedStep> _steps = steps.OrderBy(s => s.Order).ThenBy(s => s.Name, StringComparer.Ordinal).ToList();
    private static readonly TimeSpan FirstPause = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan LongestPause = TimeSpan.FromSeconds(60);
    private string? _password;

    /// <summary>The latest progress, for pages that open while seeding runs.</summary>
    public DemoSeedingProgressed? Progress { get; private set; }

    /// <summary>True once <see cref="PrepareAsync"/> found demo mode applies to this data folder.</summary>
    public bool Active { get; private set; }

    /// <summary>Where the demo password can be found, for the start-up message; null without demo data.</summary>
    public string? PasswordHint { get; private set; }

    /// <summary>
    /// Decides whether this data folder gets demo data (demo on, and the database was new or was seeded
    /// before) and runs the steps that must finish before start-up.
    /// </summary>
    public async Task PrepareAsync(bool databaseWasNew, CancellationToken cancellationToken)
    {
        if (!options.Value.Demo.Enabled)
        {
            return;
        }

        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            Active = databaseWasNew || await db.DemoSeedRecords.AnyAsync(cancellationToken);
        }

        if (!Active)
        {
            LogNotSeeding(data.Root);
            return;
        }

        _password = ResolvePassword();
        await RunAsync(_steps.Where(s => s.BeforeStartup), cancellationToken);
    }

    /// <summary>Runs the remaining steps; called by <see cref="DemoSeedingWorker"/>.</summary>
    public Task RunBackgroundStepsAsync(CancellationToken cancellationToken) =>
        Active ? RunAsync(_steps.Where(s => !s.BeforeStartup), cancellationToken) : Task.CompletedTask;

    private async Task RunAsync(IEnumerable<IDemoSeedStep> stepsToRun, CancellationToken cancellationToken)
    {
        HashSet<string> applied;
        await using (var db = await dbFactory.CreateDbContextAsync(cancellationToken))
        {
            applied = (await db.DemoSeedRecords.Select(r => r.Step).ToListAsync(cancellationToken)).ToHashSet(StringComparer.Ordinal);
        }

        var completed = _steps.Count(s => applied.Contains(s.Name));
        foreach (var step in stepsToRun.Where(s => !applied.Contains(s.Name)))
        {
            Report(new DemoSeedingProgressed(step.Name, step.Description, completed, _steps.Count, DemoSeedState.Running, null, time.UtcNow()));
            var pause = FirstPause;
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await RunStepAsync(step, cancellationToken);
                    break;
                }
                catch (Exception ex) when (DatabaseErrors.IsTransient(ex) && !cancellationToken.IsCancellationRequested)
                {
                    // A busy or unreachable database passes; the step is written to carry on from where it stopped.
                    var why = $"waiting for the database (attempt {attempt}, next in {pause.TotalSeconds:0} s): {ex.GetBaseException().Message}";
                    Report(new DemoSeedingProgressed(step.Name, step.Description, completed, _steps.Count, DemoSeedState.Retrying, why, time.UtcNow()));
                    await Task.Delay(pause, cancellationToken);
                    pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, LongestPause.Ticks));
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Report(new DemoSeedingProgressed(step.Name, step.Description, completed, _steps.Count, DemoSeedState.Failed, ex.Message, time.UtcNow()));
                    throw;
                }
            }

            completed++;
            Report(new DemoSeedingProgressed(step.Name, step.Description, completed, _steps.Count,
                completed == _steps.Count ? DemoSeedState.Completed : DemoSeedState.Running, null, time.UtcNow()));
        }
    }

    private async Task RunStepAsync(IDemoSeedStep step, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        await step.RunAsync(new DemoSeedContext(scope.ServiceProvider, _password!), cancellationToken);
        var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
        db.DemoSeedRecords.Add(new DemoSeedRecord { Step = step.Name, AppliedAt = time.UtcNow() });
        db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.DemoSeeded, "system:demo", time, after: step.Name));
        await db.SaveChangesAsync(cancellationToken);
    }

    private void Report(DemoSeedingProgressed progress)
    {
        Progress = progress;
        bus.Publish(progress);
        LogProgress(progress.Step, progress.Completed, progress.Total, progress.State);
    }

    private string ResolvePassword()
    {
        var configured = options.Value.Demo.Password;
        if (!string.IsNullOrEmpty(configured))
        {
            LogConfiguredPassword();
            PasswordHint = "the password set in Portal:Demo:Password";
            return configured;
        }

        var file = data.DemoCredentialsFile;
        if (File.Exists(file))
        {
            var saved = File.ReadAllLines(file).FirstOrDefault(l => l.StartsWith("password: ", StringComparison.Ordinal));
            if (saved is not null)
            {
                LogSavedPassword(file);
                PasswordHint = $"the password in {file}";
                return saved["password: ".Length..];
            }
        }

        var password = GeneratePassword();
        Directory.CreateDirectory(data.Root);
        File.WriteAllText(file,
            $"# Demo accounts of the MLOps Portal in {data.Root}. Every demo user has this password.{Environment.NewLine}" +
            $"users: {string.Join(", ", DemoUsers.All.Select(u => u.Email))}{Environment.NewLine}" +
            $"password: {password}{Environment.NewLine}");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(file, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        LogGeneratedPassword(password, file);
        PasswordHint = $"the password printed above (also in {file})";
        return password;
    }

    /// <summary>Four groups of five letters and digits: easy to type, meets every password rule.</summary>
    internal static string GeneratePassword()
    {
        const string alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        while (true)
        {
            var groups = Enumerable.Range(0, 4).Select(_ => new string(RandomNumberGenerator.GetItems<char>(alphabet, 5)));
            var password = string.Join('-', groups);
            if (password.Any(char.IsUpper) && password.Any(char.IsLower) && password.Any(char.IsDigit))
            {
                return password;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Demo users created. Password for every demo user (shown once): {Password} - also saved in {File}")]
    private partial void LogGeneratedPassword(string password, string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo users sign in with the password saved in {File}")]
    private partial void LogSavedPassword(string file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo users sign in with the password set in Portal:Demo:Password")]
    private partial void LogConfiguredPassword();

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo mode is on, but {DataDirectory} already holds a portal that was not seeded with demo data; leaving it as it is")]
    private partial void LogNotSeeding(string dataDirectory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Demo seeding: step {Step}, {Completed}/{Total} done, {State}")]
    private partial void LogProgress(string step, int completed, int total, DemoSeedState state);
}

public enum DemoSeedState
{
    Running,
    Completed,
    Failed,

    /// <summary>A step met a busy or unreachable database and will be tried again.</summary>
    Retrying,
}

/// <summary>Demo seeding moved on; shown live on the Home page.</summary>
public sealed record DemoSeedingProgressed(
    string Step, string Description, int Completed, int Total, DemoSeedState State, string? Error, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => "system:demo";
}
