using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Portal.Domain.Ports;
using Portal.Infrastructure.Audit;
using Portal.Infrastructure.Configuration;
using Portal.Infrastructure.Datasets;
using Portal.Infrastructure.Datasets.Ingestion;
using Portal.Infrastructure.Demo;
using Portal.Infrastructure.Events;
using Portal.Infrastructure.Experiments;
using Portal.Infrastructure.Health;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Jobs;
using Portal.Infrastructure.Lineage;
using Portal.Infrastructure.Local;
using Portal.Infrastructure.Persistence;
using Portal.Infrastructure.Persistence.Interceptors;
using Portal.Infrastructure.Storage;

namespace Portal.Infrastructure;

public static class DependencyInjection
{
    /// <summary>
    /// Registers persistence, identity stores, the event bus, the workspace backend and demo seeding, as
    /// chosen by appsettings.json. Fails at once on settings that cannot work.
    /// </summary>
    public static IServiceCollection AddInfrastructure(this IServiceCollection services, IConfiguration configuration, IHostEnvironment environment)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(environment);

        services.AddOptions<PortalOptions>().Bind(configuration.GetSection(PortalOptions.Section)).ValidateDataAnnotations().ValidateOnStart();
        var portal = configuration.GetSection(PortalOptions.Section).Get<PortalOptions>() ?? new PortalOptions();
        Validate(portal.Datasets, "Portal:Datasets");
        Validate(portal.Jobs, "Portal:Jobs");
        Validate(portal.Demo, "Portal:Demo");
        Validate(portal.Lineage, "Portal:Lineage");
        Validate(portal.Isolation, "Portal:Isolation");
        Validate(portal.Local, "Portal:Local");
        Validate(portal.Deployments, "Portal:Deployments");
        Validate(portal.Deployments.SampleTraffic, "Portal:Deployments:SampleTraffic");
        Validate(portal.Telemetry, "Portal:Telemetry");
        Validate(portal.Cost, "Portal:Cost");
        var data = DataDirectory.Resolve(portal.DataDirectory, environment.ContentRootPath);
        services.AddSingleton(data);
        services.TryAddSingleton(TimeProvider.System);
        // Hosts register it themselves; tools that compose only this layer (benchmarks, tests) get the one given here.
        services.TryAddSingleton(environment);

        services.AddDataProtection()
            .SetApplicationName("MLOps Portal")
            .PersistKeysToFileSystem(new DirectoryInfo(data.KeysFolder));

        AddDatabase(services, configuration, data);
        AddIdentityStores(services, configuration.GetSection(AccountLockoutOptions.Section).Get<AccountLockoutOptions>() ?? new AccountLockoutOptions());

        services.AddSingleton<InProcessEventBus>();
        services.AddSingleton<IEventBus>(sp => sp.GetRequiredService<InProcessEventBus>());

        services.AddSingleton<AuditTrail>();
        services.AddSingleton<AccessTokenService>();
        services.AddSingleton<UserDirectory>();
        services.AddSingleton<UserPreferences>();
        services.AddMemoryCache();
        services.AddSingleton<BrowserSessionStore>();
        services.AddSingleton<IPostConfigureOptions<Microsoft.AspNetCore.Authentication.Cookies.CookieAuthenticationOptions>, BrowserSessionCookieSetup>();

        services.AddSingleton<IArtifactStore, LocalArtifactStore>();
        services.AddSingleton<DatasetIngestor>();
        services.AddSingleton<DatasetCatalog>();
        services.AddSingleton<LineageGraph>();
        services.AddSingleton<TrackingStore>();
        services.AddSingleton<RunSearch>();
        services.AddSingleton<RunArtifacts>();
        services.AddSingleton<MetricSeries>();
        services.AddSingleton<Models.ModelRegistry>();
        services.AddSingleton<Models.MlflowRegistry>();
        services.AddSingleton<Models.ModelValidation>();
        services.AddSingleton<Models.Approvals>();
        services.AddSingleton<Models.RegistryPolicies>();
        services.AddSingleton<Models.EvidencePacks>();
        services.AddHostedService<Models.RegistryWorker>();

        services.AddSingleton<Local.Isolation.ProcessIsolation>();
        services.AddSingleton<LocalJobRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<LocalJobRunner>());
        services.AddSingleton<IWorkspaceBackend, LocalWorkspaceBackend>();
        AddServing(services);
        AddCompute(services, portal.Telemetry);
        services.AddSingleton<JobService>();
        services.AddSingleton<SweepService>();
        services.AddHostedService(sp => sp.GetRequiredService<SweepService>());
        services.AddSingleton<RunWatchdog>();
        services.AddHostedService(sp => sp.GetRequiredService<RunWatchdog>());
        services.AddHealthChecks()
            .AddDbContextCheck<PortalDbContext>("database")
            .AddCheck<WorkspaceBackendHealthCheck>("workspace-backend");

        services.AddSingleton<DemoSeeder>();
        services.AddDemoSeedStep<DemoUsersStep>();
        services.AddDemoSeedStep<DemoDatasetsStep>();
        services.AddDemoSeedStep<DemoExperimentsStep>();
        services.AddDemoSeedStep<DemoModelsStep>();
        services.AddDemoSeedStep<DemoDeploymentsStep>();
        services.AddDemoSeedStep<DemoComputeStep>();
        services.AddHostedService<SimulatedFleetGenerator>();
        services.AddHostedService<SampleTrafficGenerator>();
        services.AddHostedService<DemoSeedingWorker>();
        return services;
    }

    /// <summary>Model servers, the scoring gateway, monitoring, rollouts and alerts.</summary>
    private static void AddServing(IServiceCollection services)
    {
        // One registry per portal (not the process-wide default): tests host many portals in one process.
        services.AddSingleton(_ => Prometheus.Metrics.NewCustomRegistry());
        services.AddSingleton(sp => new Serving.ServingMetrics(sp.GetRequiredService<Prometheus.CollectorRegistry>()));
        services.AddSingleton<Serving.ServingMonitor>();
        services.AddSingleton<Serving.ServingTable>();
        services.AddSingleton<Serving.ScoringSamples>();
        services.AddSingleton<Serving.ModelForwarder>();
        services.AddSingleton<Serving.MirrorQueue>();
        services.AddHostedService(sp => sp.GetRequiredService<Serving.MirrorQueue>());
        services.AddSingleton<Local.Serving.ModelServerSupervisor>();
        services.AddSingleton<Serving.IInstanceHealth>(sp => sp.GetRequiredService<Local.Serving.ModelServerSupervisor>());
        services.AddHostedService(sp => sp.GetRequiredService<Local.Serving.ModelServerSupervisor>());
        services.AddSingleton<Serving.ScoringGateway>();
        services.AddHostedService<Serving.MonitoringWorker>();
        services.AddSingleton<Deployments.EndpointService>();
        services.AddHostedService<Deployments.RolloutWorker>();
        services.AddSingleton<Monitoring.AlertService>();
        services.AddSingleton<Monitoring.AlertEvaluator>();
        services.AddHostedService(sp => sp.GetRequiredService<Monitoring.AlertEvaluator>());
    }

    /// <summary>GPU telemetry (sources, ingestion, rollups), attribution, costs, budgets and idle detection.</summary>
    private static void AddCompute(IServiceCollection services, TelemetryOptions telemetry)
    {
        services.AddSingleton<Compute.UsageAttribution>();
        services.AddSingleton<Compute.TelemetryIngestor>();
        services.AddSingleton<Compute.TelemetryRollups>();
        services.AddSingleton<Compute.CostReports>();
        services.AddSingleton<Compute.TelemetryQueries>();
        services.AddSingleton<Compute.CostService>();
        services.AddSingleton<Compute.IdleWatch>();
        services.AddSingleton<Compute.BudgetWatch>();
        if (telemetry.NvidiaSmi)
        {
            services.AddSingleton<Domain.Compute.ITelemetrySource>(_ => new Compute.NvidiaSmiSource(telemetry.NvidiaSmiPath, TimeSpan.FromSeconds(telemetry.NvidiaSmiIntervalSeconds)));
        }

        if (telemetry.DcgmUrls.Count > 0)
        {
            foreach (var url in telemetry.DcgmUrls)
            {
                var uri = Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"
                    ? parsed
                    : throw new OptionsValidationException("Portal:Telemetry:DcgmUrls", typeof(TelemetryOptions), [$"Portal:Telemetry:DcgmUrls: '{url}' is not an http(s) URL such as http://gpu-node-1:9400/metrics."]);
                services.AddSingleton<Domain.Compute.ITelemetrySource>(sp => new Compute.DcgmScraper(uri, TimeSpan.FromSeconds(telemetry.DcgmIntervalSeconds), new HttpClient(), sp.GetRequiredService<TimeProvider>()));
            }
        }

        services.AddSingleton<Compute.TelemetryWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<Compute.TelemetryWorker>());
    }

    /// <summary>Adds a demo seeding step (see <see cref="IDemoSeedStep"/>).</summary>
    public static IServiceCollection AddDemoSeedStep<TStep>(this IServiceCollection services)
        where TStep : class, IDemoSeedStep
    {
        services.AddSingleton<IDemoSeedStep, TStep>();
        return services;
    }

    private static void AddDatabase(IServiceCollection services, IConfiguration configuration, DataDirectory data)
    {
        var database = configuration.GetSection(DatabaseOptions.Section).Get<DatabaseOptions>() ?? new DatabaseOptions();
        services.AddSingleton(Options.Create(database));
        services.AddSingleton<AuditChainInterceptor>();
        services.AddSingleton<DomainEventDispatchInterceptor>();
        Validate(database, DatabaseOptions.Section);
        services.AddSingleton(new SqlitePragmaInterceptor(database.BusyTimeoutSeconds));

        switch (database.Provider)
        {
            case DatabaseProvider.Sqlite:
                var sqlite = string.IsNullOrWhiteSpace(database.ConnectionString)
                    ? $"Data Source={data.DatabaseFile};Pooling=True;Default Timeout={database.BusyTimeoutSeconds}"
                    : database.ConnectionString;
                Directory.CreateDirectory(data.Root);
                services.AddDbContextFactory<SqlitePortalDbContext>((sp, options) => options
                    .UseSqlite(sqlite)
                    .AddInterceptors(
                        sp.GetRequiredService<SqlitePragmaInterceptor>(),
                        sp.GetRequiredService<AuditChainInterceptor>(),
                        sp.GetRequiredService<DomainEventDispatchInterceptor>()));
                services.AddSingleton<IDbContextFactory<PortalDbContext>, PortalDbContextFactory<SqlitePortalDbContext>>();
                break;

            case DatabaseProvider.PostgreSQL:
                if (string.IsNullOrWhiteSpace(database.ConnectionString))
                {
                    throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                        ["Database:ConnectionString is required when Database:Provider is PostgreSQL (e.g. Host=db;Database=portal;Username=portal;Password=…)."]);
                }

                // A write waiting on another's lock gives up after the busy timeout (55P03) instead of hanging the request.
                var postgres = new Npgsql.NpgsqlConnectionStringBuilder(database.ConnectionString);
                if (!(postgres.Options ?? "").Contains("lock_timeout", StringComparison.Ordinal))
                {
                    postgres.Options = $"{postgres.Options} -c lock_timeout={database.BusyTimeoutSeconds * 1000}".Trim();
                }

                services.AddDbContextFactory<PostgresPortalDbContext>((sp, options) => options
                    .UseNpgsql(postgres.ConnectionString)
                    .AddInterceptors(
                        sp.GetRequiredService<AuditChainInterceptor>(),
                        sp.GetRequiredService<DomainEventDispatchInterceptor>()));
                services.AddSingleton<IDbContextFactory<PortalDbContext>, PortalDbContextFactory<PostgresPortalDbContext>>();
                break;

            default:
                throw new OptionsValidationException(DatabaseOptions.Section, typeof(DatabaseOptions),
                    [$"Database:Provider '{database.Provider}' is not supported; use Sqlite or PostgreSQL."]);
        }

        // Identity's stores and health checks resolve a context per request scope; everything else asks the factory.
        services.AddScoped<PortalDbContext>(sp => sp.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContext());
    }

    /// <summary>Data annotations of a nested settings object (ValidateDataAnnotations checks only the top level).</summary>
    private static void Validate<T>(T options, string section)
        where T : class
    {
        var problems = new List<System.ComponentModel.DataAnnotations.ValidationResult>();
        if (!System.ComponentModel.DataAnnotations.Validator.TryValidateObject(options, new(options), problems, validateAllProperties: true))
        {
            throw new OptionsValidationException(section, typeof(T),
                problems.Select(p => $"{section}:{string.Join(",", p.MemberNames)}: {p.ErrorMessage}"));
        }
    }

    private static void AddIdentityStores(IServiceCollection services, AccountLockoutOptions lockout)
    {
        Validate(lockout, AccountLockoutOptions.Section);

        services.AddIdentityCore<PortalUser>(options =>
            {
                options.User.RequireUniqueEmail = true;
                options.Password.RequiredLength = 12;
                options.Password.RequiredUniqueChars = 5;
                options.Lockout.AllowedForNewUsers = true;
                options.Lockout.MaxFailedAccessAttempts = lockout.MaxFailedAttempts;
                options.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(lockout.Minutes);
                options.SignIn.RequireConfirmedAccount = false;
            })
            .AddRoles<IdentityRole>()
            .AddEntityFrameworkStores<PortalDbContext>()
            .AddSignInManager();
    }
}
