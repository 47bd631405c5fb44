using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Demo;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure;

/// <summary>Brings the data folder and database to the shape this build expects, before the portal takes requests.</summary>
public static partial class PortalInitializer
{
    public static async Task InitializePortalAsync(this IServiceProvider services, CancellationToken cancellationToken = default)
    {
        var data = services.GetRequiredService<DataDirectory>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(PortalInitializer));
        var time = services.GetRequiredService<TimeProvider>();
        Directory.CreateDirectory(data.Root);
        Directory.CreateDirectory(data.RunsFolder);
        Directory.CreateDirectory(data.ArtifactsFolder);

        bool databaseWasNew;
        await using (var scope = services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<PortalDbContext>();
            if (db.Database.IsSqlite())
            {
                // WAL lets readers carry on while one writer writes; it is a property of the file, set once.
                await db.Database.OpenConnectionAsync(cancellationToken);
                await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode = WAL;", cancellationToken);
                await db.Database.CloseConnectionAsync();
            }

            databaseWasNew = !(await db.Database.GetAppliedMigrationsAsync(cancellationToken)).Any();
            var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
            if (pending.Count > 0)
            {
                LogMigrating(logger, pending.Count, db.Database.ProviderName ?? "?");
                await db.Database.MigrateAsync(cancellationToken);
            }

            var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
            foreach (var role in Roles.All)
            {
                if (!await roles.RoleExistsAsync(role))
                {
                    await roles.CreateAsync(new IdentityRole(role));
                }
            }

            if (databaseWasNew)
            {
                db.AuditEntries.Add(AuditEntry.Record(Actor.System, AuditActions.PortalInitialized, "system:portal", time,
                    after: $"provider={db.Database.ProviderName}; data={data.Root}"));
                await db.SaveChangesAsync(cancellationToken);
            }
        }

        // After the database exists, so its file is made private too; before any job can start.
        await services.GetRequiredService<Local.Isolation.ProcessIsolation>().InitializeAsync(cancellationToken);
        // The gateway routes from the first request on, before the supervisor's first look at its instances.
        await services.GetRequiredService<Serving.ServingTable>().RefreshAsync(cancellationToken);
        await services.GetRequiredService<DemoSeeder>().PrepareAsync(databaseWasNew, cancellationToken);
        LogReady(logger, data.Root);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Applying {Count} database migration(s) on {Provider}")]
    private static partial void LogMigrating(ILogger logger, int count, string provider);

    [LoggerMessage(Level = LogLevel.Information, Message = "Portal data folder: {DataDirectory}")]
    private static partial void LogReady(ILogger logger, string dataDirectory);
}
