using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Demo;
using Portal.Infrastructure.Persistence;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

/// <summary>
/// Another process holds the database's write lock. A request is then answered 503 with Retry-After and a
/// detail that says so — never a made-up conflict — and nothing is half-written; background work waits the
/// lock out instead of giving up. Each engine is held for real: SQLite by a second process, PostgreSQL by
/// a second session holding a table lock.
/// </summary>
[Collection(PostgresCollection.Name)]
public class BusyDatabaseTests(PostgresServer postgres)
{
    [Fact]
    public async Task OnSqlite_WritesUnderAHeldLock_Answer503WithRetryAfter_AndWriteNothing()
    {
        using var portal = new PortalFactory().With("Database:BusyTimeoutSeconds", "1");
        await portal.WaitForDemoDataAsync();
        var database = portal.Services.GetRequiredService<DataDirectory>().DatabaseFile;

        await using (await SqliteLock.HoldAsync(database))
        {
            await AssertRefusedWhileBusyAsync(portal);
        }

        await AssertNothingWrittenAndRetryWorksAsync(portal);
    }

    [Fact]
    public async Task OnPostgres_WritesUnderAHeldLock_Answer503WithRetryAfter_AndWriteNothing()
    {
        var connectionString = await postgres.CreateDatabaseAsync();
        using var portal = new PortalFactory().With("Database:Provider", "PostgreSQL").With("Database:ConnectionString", connectionString)
            .With("Database:BusyTimeoutSeconds", "1");
        await portal.WaitForDemoDataAsync();

        await using (var holder = new NpgsqlConnection(connectionString))
        {
            await holder.OpenAsync();
            await using var transaction = await holder.BeginTransactionAsync();
            await using (var command = new NpgsqlCommand("""LOCK TABLE "Experiments", "Runs", "Jobs", "Datasets" IN EXCLUSIVE MODE""", holder, transaction))
            {
                await command.ExecuteNonQueryAsync();
            }

            await AssertRefusedWhileBusyAsync(portal);
            await transaction.RollbackAsync();
        }

        await AssertNothingWrittenAndRetryWorksAsync(portal);
    }

    [Fact]
    public async Task DemoSeeding_WaitsOutAHeldLock_AndFinishesWithoutDuplicates()
    {
        using var data = new TempFolder();
        await using var services = await new InfrastructureBuilder(data.Path).With("Database:BusyTimeoutSeconds", "1").StartAsync();
        var seeder = services.GetRequiredService<DemoSeeder>();
        var states = new List<DemoSeedState>();
        using var watch = services.GetRequiredService<Portal.Domain.Ports.IEventBus>().Subscribe<DemoSeedingProgressed>(batch =>
        {
            lock (states)
            {
                states.AddRange(batch.Select(e => e.State));
            }

            return Task.CompletedTask;
        });

        Task seeding;
        await using (await SqliteLock.HoldAsync(services.GetRequiredService<DataDirectory>().DatabaseFile, TimeSpan.FromSeconds(4)))
        {
            seeding = seeder.RunBackgroundStepsAsync(CancellationToken.None);
            await Task.Delay(TimeSpan.FromSeconds(3));
        }

        await seeding.WaitAsync(TimeSpan.FromSeconds(90));

        Assert.Equal(DemoSeedState.Completed, seeder.Progress!.State);
        await Task.Delay(200);
        lock (states)
        {
            Assert.Contains(DemoSeedState.Retrying, states);
            Assert.DoesNotContain(DemoSeedState.Failed, states);
        }

        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        var versions = await db.DatasetVersions.Join(db.Datasets, v => v.DatasetId, d => d.Id, (v, d) => d.Name).ToListAsync();
        Assert.Equal(2, versions.Count(n => n == DemoDatasetsStep.Dataset));
        Assert.Equal(1, versions.Count(n => n == DemoDatasetsStep.Holdout));
        var history = await db.Experiments.SingleAsync(e => e.Name == DemoExperimentsStep.HistoryExperiment);
        Assert.Equal(100, await db.Runs.CountAsync(r => r.ExperimentId == history.Id));
    }

    private static async Task AssertRefusedWhileBusyAsync(PortalFactory portal)
    {
        var client = portal.ClientFor("scientist@demo.local");
        var create = await client.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "held-lock" });
        Assert.Equal(HttpStatusCode.ServiceUnavailable, create.StatusCode);
        Assert.Equal("5", create.Headers.RetryAfter?.Delta?.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var mlflow = await create.JsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Equal("TEMPORARILY_UNAVAILABLE", mlflow.GetProperty("error_code").GetString());
        Assert.Contains("busy", mlflow.GetProperty("message").GetString());

        var job = await client.PostAsJsonAsync("/api/v1/jobs", new { experiment = "held-lock-jobs", command = "true" });
        var problem = await job.JsonAsync(HttpStatusCode.ServiceUnavailable);
        Assert.NotNull(job.Headers.RetryAfter);
        Assert.Contains("Nothing was changed", problem.GetProperty("detail").GetString());

        using var form = new MultipartFormDataContent { { new StringContent("a,b\n1,2\n"), "file", "t.csv" } };
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.PostAsync("/api/v1/datasets/held-lock/versions", form)).StatusCode);
    }

    private static async Task AssertNothingWrittenAndRetryWorksAsync(PortalFactory portal)
    {
        var client = portal.ClientFor("scientist@demo.local");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=held-lock")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/2.0/mlflow/experiments/get-by-name?experiment_name=held-lock-jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/v1/datasets/held-lock")).StatusCode);

        // Once the lock is gone the same call works: it was never a conflict.
        Assert.Equal(HttpStatusCode.OK, (await client.PostAsJsonAsync("/api/2.0/mlflow/experiments/create", new { name = "held-lock" })).StatusCode);
    }

    /// <summary>A separate process (Debian's Python and its sqlite3 module) holding SQLite's write lock.</summary>
    private sealed class SqliteLock : IAsyncDisposable
    {
        private readonly Process _process;

        private SqliteLock(Process process) => _process = process;

        public static async Task<SqliteLock> HoldAsync(string database, TimeSpan? atMost = null)
        {
            var seconds = (atMost ?? TimeSpan.FromSeconds(120)).TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var process = Process.Start(new ProcessStartInfo("/usr/bin/python3",
                ["-c", "import sqlite3,sys,time\nc=sqlite3.connect(sys.argv[1],isolation_level=None,timeout=30)\nc.execute('BEGIN IMMEDIATE')\nprint('locked',flush=True)\ntime.sleep(float(sys.argv[2]))", database, seconds])
            {
                RedirectStandardOutput = true,
                UseShellExecute = false,
            })!;
            var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal("locked", line);
            return new SqliteLock(process);
        }

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                _process.Kill();
            }

            await _process.WaitForExitAsync();
            _process.Dispose();
        }
    }
}
