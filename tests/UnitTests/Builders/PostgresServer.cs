using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Portal.UnitTests.Builders;

/// <summary>
/// A real PostgreSQL server for the test run: initdb into a temp folder, started on a free loopback port,
/// stopped by its data folder at the end. Fails (never skips) when PostgreSQL is not installed.
/// </summary>
public sealed class PostgresServer : IAsyncLifetime
{
    private readonly TempFolder _root = new("portal-pg");
    private string _bin = "";
    private int _databases;

    public int Port { get; private set; }

    private string DataFolder => Path.Combine(_root.Path, "data");

    private string SocketFolder => Path.Combine(_root.Path, "sock");

    /// <summary>A connection string to a new, empty database on this server.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var name = $"portal_{Interlocked.Increment(ref _databases)}_{Guid.NewGuid():N}"[..30];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    public string ConnectionString(string database) =>
        $"Host=127.0.0.1;Port={Port};Database={database};Username=postgres;Pooling=false";

    public async Task InitializeAsync()
    {
        _bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(Directory.Exists)
                .OrderBy(d => Version.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : new Version(0, 0)).LastOrDefault() ?? ""
            : "";
        if (!File.Exists(Path.Combine(_bin, "initdb")))
        {
            throw new InvalidOperationException("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). Run `.ci/prerequisites tests`.");
        }

        Port = FreePort();
        Directory.CreateDirectory(DataFolder);
        Directory.CreateDirectory(SocketFolder);
        if (Environment.UserName == "root")
        {
            // PostgreSQL refuses to run as root; the postgres account created by the Debian package runs it.
            await RunAsync("chown", "-R", "postgres:postgres", _root.Path);
        }

        await RunAsPostgresAsync(Path.Combine(_bin, "initdb"), "-D", DataFolder, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync");
        await RunAsPostgresAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataFolder, "-l", Path.Combine(_root.Path, "server.log"), "-w", "-t", "30",
            "-o", $"-c listen_addresses=127.0.0.1 -p {Port} -k {SocketFolder} -c fsync=off -c synchronous_commit=off -c full_page_writes=off", "start");
    }

    public async Task DisposeAsync()
    {
        try
        {
            await RunAsPostgresAsync(Path.Combine(_bin, "pg_ctl"), "-D", DataFolder, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            _root.Dispose();
        }
    }

    private Task RunAsPostgresAsync(string program, params string[] args) =>
        Environment.UserName == "root" ? RunAsync("runuser", ["-u", "postgres", "--", program, .. args]) : RunAsync(program, args);

    private static async Task RunAsync(string program, params string[] args)
    {
        var start = new ProcessStartInfo(program) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {string.Join(' ', args)} failed ({process.ExitCode}): {await error}{await output}");
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresServer>
{
    public const string Name = "PostgreSQL";
}
