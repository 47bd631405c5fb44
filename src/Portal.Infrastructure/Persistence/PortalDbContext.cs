using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Datasets;
using Portal.Domain.Experiments;
using Portal.Domain.Jobs;
using Portal.Domain.Sweeps;
using Portal.Domain.Identity;
using Portal.Domain.Lineage;
using Portal.Domain.Models;
using Portal.Domain.Monitoring;
using Portal.Infrastructure.Serving;

namespace Portal.Infrastructure.Persistence;

/// <summary>
/// The portal's state. Each database engine has a subclass (<see cref="SqlitePortalDbContext"/>,
/// <see cref="PostgresPortalDbContext"/>) only so that each keeps its own migrations; code uses this type.
/// </summary>
public abstract class PortalDbContext(DbContextOptions options) : IdentityDbContext<PortalUser>(options)
{
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    public DbSet<AccessToken> AccessTokens => Set<AccessToken>();

    public DbSet<DemoSeedRecord> DemoSeedRecords => Set<DemoSeedRecord>();

    public DbSet<BrowserSession> BrowserSessions => Set<BrowserSession>();

    public DbSet<Dataset> Datasets => Set<Dataset>();

    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();

    public DbSet<LineageEdge> LineageEdges => Set<LineageEdge>();

    public DbSet<Experiment> Experiments => Set<Experiment>();

    public DbSet<Run> Runs => Set<Run>();

    public DbSet<RunSearchValue> RunSearchValues => Set<RunSearchValue>();

    public DbSet<MetricPointRow> MetricPoints => Set<MetricPointRow>();

    public DbSet<MetricRollup> MetricRollups => Set<MetricRollup>();

    public DbSet<RunArtifact> RunArtifacts => Set<RunArtifact>();

    public DbSet<Job> Jobs => Set<Job>();

    public DbSet<Sweep> Sweeps => Set<Sweep>();

    public DbSet<RegisteredModel> RegisteredModels => Set<RegisteredModel>();

    public DbSet<ModelVersion> ModelVersions => Set<ModelVersion>();

    public DbSet<ApprovalRequest> ApprovalRequests => Set<ApprovalRequest>();

    public DbSet<RegistryDefaults> RegistryDefaults => Set<RegistryDefaults>();

    public DbSet<Domain.Deployments.Endpoint> Endpoints => Set<Domain.Deployments.Endpoint>();

    public DbSet<ModelServerInstance> ModelServerInstances => Set<ModelServerInstance>();

    public DbSet<ServingMinute> ServingMinutes => Set<ServingMinute>();

    public DbSet<ScoringSample> ScoringSamples => Set<ScoringSample>();

    public DbSet<AlertRule> AlertRules => Set<AlertRule>();

    public DbSet<Alert> Alerts => Set<Alert>();

    public DbSet<Compute.GpuDevice> GpuDevices => Set<Compute.GpuDevice>();

    public DbSet<Compute.GpuSampleRow> GpuSamples => Set<Compute.GpuSampleRow>();

    public DbSet<Compute.GpuMinute> GpuMinutes => Set<Compute.GpuMinute>();

    public DbSet<Compute.GpuHour> GpuHours => Set<Compute.GpuHour>();

    public DbSet<Compute.UsageHour> UsageHours => Set<Compute.UsageHour>();

    public DbSet<Compute.UsageDay> UsageDays => Set<Compute.UsageDay>();

    public DbSet<Compute.UsageOwnerRow> UsageOwners => Set<Compute.UsageOwnerRow>();

    public DbSet<Compute.IdleStretch> IdleStretches => Set<Compute.IdleStretch>();

    public DbSet<Compute.TelemetryCursor> TelemetryCursors => Set<Compute.TelemetryCursor>();

    public DbSet<Domain.Compute.PriceCard> PriceCards => Set<Domain.Compute.PriceCard>();

    public DbSet<Domain.Compute.Budget> Budgets => Set<Domain.Compute.Budget>();

    public DbSet<Compute.CostImport> CostImports => Set<Compute.CostImport>();

    public DbSet<Compute.CostImportLine> CostImportLines => Set<Compute.CostImportLine>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.ApplyConfigurationsFromAssembly(typeof(PortalDbContext).Assembly);

        // Domain events are transient: they are dispatched after a save, never stored.
        foreach (var entityType in builder.Model.GetEntityTypes().Where(t => typeof(Entity).IsAssignableFrom(t.ClrType)))
        {
            builder.Entity(entityType.ClrType).Ignore(nameof(Entity.DomainEvents));
        }
    }

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC: SQLite forgets the kind, PostgreSQL's timestamptz insists on it.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }
}

public sealed class SqlitePortalDbContext(DbContextOptions<SqlitePortalDbContext> options) : PortalDbContext(options);

public sealed class PostgresPortalDbContext(DbContextOptions<PostgresPortalDbContext> options) : PortalDbContext(options);
