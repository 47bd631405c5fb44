using System.ComponentModel.DataAnnotations;

namespace Portal.Infrastructure.Configuration;

/// <summary>The <c>Portal</c> section of appsettings.json.</summary>
public sealed class PortalOptions
{
    public const string Section = "Portal";

    /// <summary>
    /// Folder for the SQLite database, artifacts, run folders and keys. A relative path is resolved
    /// against the repository root when run from a clone, otherwise against the application folder.
    /// </summary>
    [Required]
    public string DataDirectory { get; set; } = "./data";

    public DemoOptions Demo { get; set; } = new();

    public LocalBackendOptions Local { get; set; } = new();

    public DatasetOptions Datasets { get; set; } = new();
}

public sealed class DatasetOptions
{
    /// <summary>Largest dataset file accepted, in MiB.</summary>
    [Range(1, 1024 * 1024)]
    public int MaxUploadMegabytes { get; set; } = 1024;

    public long MaxUploadBytes => (long)MaxUploadMegabytes * 1024 * 1024;
}

public sealed class DemoOptions
{
    /// <summary>Seed demo users and data on first start of an empty data folder.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Password of every demo user; generated and printed once when unset.</summary>
    public string? Password { get; set; }
}

public sealed class LocalBackendOptions
{
    /// <summary>Interpreter for Python jobs. Debian's has scikit-learn and pandas; pyenv shims may not.</summary>
    [Required]
    public string Python { get; set; } = "/usr/bin/python3";
}

/// <summary>The <c>Auth:Lockout</c> section: how many wrong passwords lock an account, and for how long.</summary>
public sealed class AccountLockoutOptions
{
    public const string Section = "Auth:Lockout";

    [Range(1, 100)]
    public int MaxFailedAttempts { get; set; } = 5;

    [Range(0.01, 24 * 60)]
    public double Minutes { get; set; } = 15;
}

/// <summary>The <c>Database</c> section: which engine holds the portal's state.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (embedded default) or <c>PostgreSQL</c>.</summary>
    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Required for PostgreSQL; for SQLite defaults to <c>portal.db</c> in the data folder.</summary>
    public string? ConnectionString { get; set; }
}

public enum DatabaseProvider
{
    Sqlite,
    PostgreSQL,
}
