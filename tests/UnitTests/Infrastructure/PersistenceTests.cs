using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Infrastructure.Audit;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

public class SqlitePersistenceTests : IDisposable
{
    private readonly TempFolder _data = new();

    [Fact]
    public async Task Migrations_MatchTheModel()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

        Assert.IsType<SqlitePortalDbContext>(db);
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration: run dotnet ef migrations add (docs/configuration.md).");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
    }

    [Fact]
    public async Task Start_PutsTheDatabaseInTheDataFolderInWalMode()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        await db.Database.OpenConnectionAsync();
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = "PRAGMA journal_mode;";
        var mode = (string?)await command.ExecuteScalarAsync();
        command.CommandText = "PRAGMA foreign_keys;";
        var foreignKeys = Convert.ToInt32(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);

        Assert.Equal("wal", mode);
        Assert.Equal(1, foreignKeys);
        Assert.True(File.Exists(services.GetRequiredService<DataDirectory>().DatabaseFile));
    }

    [Fact]
    public async Task ConcurrentAuditRecords_FormOneUnbrokenChain()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await AuditConcurrency.RecordManyAndVerifyAsync(services);
    }

    [Fact]
    public async Task FailedSave_WritesNoAuditEntry_AndTheTrailStaysWritable()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await AuditConcurrency.FailedSaveLeavesNothingAsync(services);
    }

    [Fact]
    public async Task ASaveLosingAnOptimisticConcurrencyRace_LeavesTheTrailWritable()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await AuditConcurrency.LosingARaceLeavesTheTrailWritableAsync(services);
    }

    [Fact]
    public async Task AnAuditedSaveArrivingDuringAnAuditedTransaction_WaitsItsTurn_AndBothAreWritten()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await AuditConcurrency.SaveDuringAuditedTransactionAsync(services);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}

[Collection(PostgresCollection.Name)]
public class PostgresPersistenceTests(PostgresServer postgres) : IDisposable
{
    private readonly TempFolder _data = new();

    [Fact]
    public async Task Migrations_MatchTheModel_AndApplyOnARealServer()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();

        Assert.IsType<PostgresPortalDbContext>(db);
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a PostgreSQL migration.");
        Assert.Empty(await db.Database.GetPendingMigrationsAsync());
        Assert.Equal(6, await db.Users.CountAsync());
    }

    [Fact]
    public async Task AuditTrail_SurvivesTheRoundTrip_AndVerifies()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        var trail = services.GetRequiredService<AuditTrail>();
        await trail.RecordAsync(new Actor("ada@demo.local"), "test.action", "thing:1", before: "a", after: "b", reason: "ünïcödé ✓");

        var verification = await trail.VerifyAsync();

        Assert.True(verification.Valid, verification.Problem);
        Assert.True(verification.Entries >= 2);
    }

    [Fact]
    public async Task AuditRows_CannotBeChangedByThePortalsRole_AndAnEditIsFoundByVerify()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        var trail = services.GetRequiredService<AuditTrail>();
        await trail.RecordAsync(new Actor("ada@demo.local"), "test.action", "thing:1", after: "b");
        await trail.RecordAsync(new Actor("ada@demo.local"), "test.action", "thing:2", after: "c");
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var second = await db.AuditEntries.OrderBy(e => e.Id).Skip(1).Select(e => e.Id).FirstAsync();

        var update = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEntries\" SET \"Actor\" = 'mallory' WHERE \"Id\" = {second}"));
        var delete = await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlAsync($"DELETE FROM \"AuditEntries\" WHERE \"Id\" = {second}"));
        await Assert.ThrowsAsync<Npgsql.PostgresException>(() => db.Database.ExecuteSqlRawAsync("TRUNCATE \"AuditEntries\""));
        Assert.Contains("append-only", update.MessageText, StringComparison.Ordinal);
        Assert.Equal("42501", delete.SqlState);
        Assert.True((await trail.VerifyAsync()).Valid);

        // Someone who owns the schema can still disable the trigger; the chain then names the edited entry.
        await db.Database.ExecuteSqlRawAsync("ALTER TABLE \"AuditEntries\" DISABLE TRIGGER audit_entries_no_change");
        await db.Database.ExecuteSqlAsync($"UPDATE \"AuditEntries\" SET \"Actor\" = 'mallory' WHERE \"Id\" = {second}");
        var verification = await trail.VerifyAsync();

        Assert.False(verification.Valid);
        Assert.Equal(second, verification.FirstBrokenEntry);
    }

    [Fact]
    public async Task ASaveLosingAnOptimisticConcurrencyRace_LeavesTheTrailWritable()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        await AuditConcurrency.LosingARaceLeavesTheTrailWritableAsync(services);
    }

    [Fact]
    public async Task AnAuditedSaveArrivingDuringAnAuditedTransaction_WaitsItsTurn_AndBothAreWritten()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        await AuditConcurrency.SaveDuringAuditedTransactionAsync(services);
    }

    [Fact]
    public async Task ConcurrentAuditRecords_FormOneUnbrokenChain()
    {
        await using var services = await Builder(await postgres.CreateDatabaseAsync()).StartAsync();
        await AuditConcurrency.RecordManyAndVerifyAsync(services);
    }

    [Fact]
    public async Task MissingConnectionString_FailsAtStartWithAClearMessage()
    {
        var ex = Assert.ThrowsAny<Exception>(() => new InfrastructureBuilder(_data.Path).With("Database:Provider", "PostgreSQL").Build());

        Assert.Contains("Database:ConnectionString is required", ex.Message);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private InfrastructureBuilder Builder(string connectionString) =>
        new InfrastructureBuilder(_data.Path).With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", connectionString);
}

internal static class AuditConcurrency
{
    /// <summary>Two reviewers decide on one request from two contexts: the loser fails on the concurrency token, and the trail stays writable.</summary>
    public static async Task LosingARaceLeavesTheTrailWritableAsync(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var time = TimeProvider.System;
        var author = new Actor("sam@x", [Portal.Domain.Identity.Roles.DataScientist]);
        var version = Portal.Domain.Models.ModelVersion.Register("race", 1, "run", "outputs/model.pkl", new string('c', 64), author, time);
        foreach (var check in Portal.Domain.Models.ModelChecks.All)
        {
            version.RecordCheck(new(check, Portal.Domain.Models.CheckStatus.Passed, "ok", DateTime.UtcNow), [], time);
        }

        var request = Portal.Domain.Models.ApprovalRequest.Open(version, Portal.Domain.Models.ApprovalPolicy.Default, Portal.Domain.Models.ModelChecks.All.ToHashSet(), author, null, time);
        await using (var db = await factory.CreateDbContextAsync())
        {
            db.ModelVersions.Add(version);
            db.ApprovalRequests.Add(request);
            await db.SaveChangesAsync();
        }

        // Two reviewers load the same request; the first save wins, the second hits the concurrency token.
        await using var first = await factory.CreateDbContextAsync();
        await using var second = await factory.CreateDbContextAsync();
        foreach (var (db, reviewer) in new[] { (first, "rita@x"), (second, "rob@x") })
        {
            var mine = await db.ApprovalRequests.SingleAsync(r => r.Id == request.Id);
            var theirVersion = await db.ModelVersions.SingleAsync(v => v.Id == version.Id);
            mine.Decide(new Actor(reviewer, [Portal.Domain.Identity.Roles.RiskReviewer]), Portal.Domain.Models.Verdict.Approve, "ok", theirVersion, version.ArtifactHash, time);
            db.AuditEntries.Add(AuditEntry.Record(new Actor(reviewer), "approval.decided", "model:race:1", time));
        }

        await first.SaveChangesAsync();
        await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => second.SaveChangesAsync());

        var next = services.GetRequiredService<AuditTrail>().RecordAsync(new Actor("ada@x"), "test.after-race", "thing:1");
        Assert.Same(next, await Task.WhenAny(next, Task.Delay(TimeSpan.FromSeconds(20))));
        Assert.True((await services.GetRequiredService<AuditTrail>().VerifyAsync()).Valid);
    }

    /// <summary>
    /// An audited transaction (an administrator creating a person) already holds the write lock when another
    /// audited save starts; the other save waits for the transaction instead of taking the audit turn and then
    /// waiting for the lock (which left both stuck until SQLite's busy timeout failed the other save).
    /// </summary>
    public static async Task SaveDuringAuditedTransactionAsync(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var trail = services.GetRequiredService<AuditTrail>();
        var time = services.GetRequiredService<TimeProvider>();
        var before = (await trail.VerifyAsync()).Entries;

        await using var db = await factory.CreateDbContextAsync();
        Task other;
        await using (var transaction = await services.GetRequiredService<AuditChainInterceptor>().BeginTransactionAsync(db))
        {
            db.DemoSeedRecords.Add(new DemoSeedRecord { Step = "turn-test", AppliedAt = DateTime.UtcNow });
            await db.SaveChangesAsync(); // the transaction now holds the database's write lock
            other = trail.RecordAsync(new Actor("ops@x"), "test.meanwhile", "thing:other");
            await Task.Delay(200); // lets the other save reach the audit turn before this one saves its entry
            db.AuditEntries.Add(AuditEntry.Record(new Actor("admin@x"), "test.in-transaction", "thing:mine", time));
            await db.SaveChangesAsync().WaitAsync(TimeSpan.FromSeconds(20));
            await transaction.CommitAsync();
        }

        await other.WaitAsync(TimeSpan.FromSeconds(20));
        var verification = await trail.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(before + 2, verification.Entries);
        await using var check = await factory.CreateDbContextAsync();
        Assert.Equal(["test.in-transaction", "test.meanwhile"],
            await check.AuditEntries.Where(e => e.Id > before).OrderBy(e => e.Id).Select(e => e.Action).ToListAsync());
    }

    public static async Task RecordManyAndVerifyAsync(IServiceProvider services)
    {
        var trail = services.GetRequiredService<AuditTrail>();
        var before = (await trail.VerifyAsync()).Entries;

        await Parallel.ForAsync(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, ct) =>
            await trail.RecordAsync(new Actor($"user{i}@demo.local"), "test.concurrent", $"thing:{i}", cancellationToken: ct));

        var verification = await trail.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(before + 40, verification.Entries);

        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var ids = await db.AuditEntries.OrderBy(e => e.Id).Select(e => e.Id).ToListAsync();
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids);
    }

    public static async Task FailedSaveLeavesNothingAsync(IServiceProvider services)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PortalDbContext>>();
        var time = services.GetRequiredService<TimeProvider>();
        var trail = services.GetRequiredService<AuditTrail>();
        var before = (await trail.VerifyAsync()).Entries;

        await using (var db = await factory.CreateDbContextAsync())
        {
            db.DemoSeedRecords.Add(new DemoSeedRecord { Step = "users", AppliedAt = DateTime.UtcNow }); // already there: the save fails
            db.AuditEntries.Add(AuditEntry.Record(Actor.System, "test.fails", "thing:x", time));
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        await trail.RecordAsync(Actor.System, "test.after", "thing:y").WaitAsync(TimeSpan.FromSeconds(10));
        var verification = await trail.VerifyAsync();
        Assert.True(verification.Valid, verification.Problem);
        Assert.Equal(before + 1, verification.Entries);
    }
}
