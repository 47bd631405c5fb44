using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Portal.Infrastructure.Persistence;

/// <summary>
/// What a database error really is, read from the engine's own code rather than from the exception type:
/// EF wraps a duplicate key, a busy database and a lost connection alike in <c>DbUpdateException</c>.
/// A duplicate is the caller's conflict; busy, locked or unreachable is the database's, and worth retrying.
/// </summary>
public static partial class DatabaseErrors
{
    private const int SqliteBusy = 5;
    private const int SqliteLocked = 6;
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;

    // serialization_failure, deadlock_detected, lock_not_available, admin/crash shutdown, cannot_connect_now,
    // too_many_connections, query_canceled (statement or lock timeout).
    private static readonly HashSet<string> TransientStates = new(StringComparer.Ordinal) { "40001", "40P01", "55P03", "57P01", "57P02", "57P03", "53300", "57014" };

    /// <summary>How long a caller is told to wait before trying again (HTTP Retry-After, seconds).</summary>
    public const int RetryAfterSeconds = 5;

    /// <summary>A unique or primary-key violation: the row already exists.</summary>
    public static bool IsUniqueViolation(Exception exception) => Causes(exception).Any(e => e switch
    {
        SqliteException s => s.SqliteErrorCode == SqliteConstraint && s.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey,
        PostgresException p => p.SqlState == PostgresErrorCodes.UniqueViolation,
        _ => false,
    });

    /// <summary>The database was busy, locked, timed out or unreachable: nothing was written and trying again may work.</summary>
    public static bool IsTransient(Exception exception) => Causes(exception).Any(e => e switch
    {
        SqliteException s => s.SqliteErrorCode is SqliteBusy or SqliteLocked,
        PostgresException p => TransientStates.Contains(p.SqlState) || p.SqlState.StartsWith("08", StringComparison.Ordinal),
        NpgsqlException n => n.IsTransient,
        _ => false,
    });

    /// <summary>A sentence for the person or script that met a transient error.</summary>
    public static string Explain(Exception exception) => Causes(exception).Any(e => e is SqliteException { SqliteErrorCode: SqliteBusy or SqliteLocked } or PostgresException { SqlState: "55P03" or "40001" or "40P01" or "57014" })
        ? $"The database is busy: another writer holds it. Nothing was changed; try again in a few seconds (Retry-After: {RetryAfterSeconds})."
        : $"The database cannot be reached right now. Nothing was changed; try again in a few seconds (Retry-After: {RetryAfterSeconds}).";

    /// <summary>
    /// Runs <paramref name="work"/>, trying again with growing pauses while it fails transiently (at most
    /// <paramref name="attempts"/> times). The work must be a unit that a transient failure leaves unwritten.
    /// </summary>
    public static async Task<T> RetryAsync<T>(Func<Task<T>> work, ILogger logger, string what, CancellationToken cancellationToken, int attempts = 8)
    {
        ArgumentNullException.ThrowIfNull(work);
        var delay = TimeSpan.FromMilliseconds(250);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await work();
            }
            catch (Exception e) when (attempt < attempts && IsTransient(e) && !cancellationToken.IsCancellationRequested)
            {
                LogRetrying(logger, what, attempt, delay.TotalSeconds, e.GetBaseException().Message);
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
            }
        }
    }

    public static Task RetryAsync(Func<Task> work, ILogger logger, string what, CancellationToken cancellationToken, int attempts = 8) =>
        RetryAsync(async () =>
        {
            await work();
            return true;
        }, logger, what, cancellationToken, attempts);

    private static IEnumerable<Exception> Causes(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            yield return e;
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{What} met a busy or unreachable database (attempt {Attempt}); trying again in {Seconds} s: {Reason}")]
    private static partial void LogRetrying(ILogger logger, string what, int attempt, double seconds, string reason);
}
