using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Portal.Infrastructure.Persistence.Interceptors;

/// <summary>
/// Per-connection SQLite settings (journal mode WAL is set once per file at start-up). NORMAL sync is
/// safe with WAL and much faster; a busy timeout lets concurrent writers wait instead of failing.
/// </summary>
public sealed class SqlitePragmaInterceptor(int busyTimeoutSeconds = 30) : DbConnectionInterceptor
{
    private readonly string _pragmas =
        $"PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = {busyTimeoutSeconds * 1000}; PRAGMA foreign_keys = ON; PRAGMA temp_store = MEMORY; PRAGMA cache_size = -32768;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
