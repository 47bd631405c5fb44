using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Ports;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

/// <summary>Live pages must never show what the database did not keep: events wait for the commit.</summary>
public sealed class EventsAfterCommitTests : IDisposable
{
    private readonly TempFolder _folder = new("events-commit");
    private readonly RecordingBus _bus = new();
    private readonly CommitSwitch _commit = new();

    [Fact]
    public async Task AnEventSavedInsideATransaction_GoesOutOnlyWhenItCommits()
    {
        await using var db = await OpenAsync();
        await using var transaction = await db.Database.BeginTransactionAsync();
        db.AuditEntries.Add(Entry());
        await db.SaveChangesAsync();

        Assert.Empty(_bus.Published);

        await transaction.CommitAsync();
        Assert.Single(_bus.Published);
    }

    [Fact]
    public async Task WhenTheCommitFails_NoEventGoesOut()
    {
        await using var db = await OpenAsync();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.AuditEntries.Add(Entry());
            await db.SaveChangesAsync();
            _commit.Fail = true;
            await Assert.ThrowsAsync<InvalidOperationException>(() => transaction.CommitAsync());
        }

        Assert.Empty(_bus.Published);

        // The next, successful save on the same context publishes only its own event.
        _commit.Fail = false;
        db.ChangeTracker.Clear();
        db.AuditEntries.Add(Entry());
        await db.SaveChangesAsync();
        Assert.Single(_bus.Published);
    }

    [Fact]
    public async Task ARolledBackTransaction_DropsItsEvents()
    {
        await using var db = await OpenAsync();
        await using (var transaction = await db.Database.BeginTransactionAsync())
        {
            db.AuditEntries.Add(Entry());
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        }

        Assert.Empty(_bus.Published);
    }

    [Fact]
    public async Task ASaveWithoutATransaction_PublishesAtOnce()
    {
        await using var db = await OpenAsync();
        db.AuditEntries.Add(Entry());
        await db.SaveChangesAsync();

        Assert.Single(_bus.Published);
    }

    public void Dispose() => _folder.Dispose();

    private static AuditEntry Entry() => AuditEntry.Record(new Actor("ada@demo.local", []), "test.saved", "test:1", TimeProvider.System);

    private async Task<SqlitePortalDbContext> OpenAsync()
    {
        var options = new DbContextOptionsBuilder<SqlitePortalDbContext>()
            .UseSqlite($"Data Source={Path.Combine(_folder.Path, "portal.db")}")
            .AddInterceptors(new DomainEventDispatchInterceptor(_bus), _commit)
            .Options;
        var db = new SqlitePortalDbContext(options);
        await db.Database.MigrateAsync();
        return db;
    }

    /// <summary>Makes the database refuse the commit, as a full disk or a lost connection would.</summary>
    private sealed class CommitSwitch : DbTransactionInterceptor
    {
        public bool Fail { get; set; }

        public override ValueTask<InterceptionResult> TransactionCommittingAsync(DbTransaction transaction, TransactionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default) =>
            Fail ? throw new InvalidOperationException("disk full") : ValueTask.FromResult(result);
    }

    private sealed class RecordingBus : IEventBus
    {
        public List<IDomainEvent> Published { get; } = [];

        public void Publish(IDomainEvent domainEvent) => Published.Add(domainEvent);

        public IDisposable Subscribe<TEvent>(Func<IReadOnlyList<TEvent>, Task> handler, Func<TEvent, bool>? filter = null, TimeSpan coalesce = default)
            where TEvent : IDomainEvent => throw new NotSupportedException();
    }
}
