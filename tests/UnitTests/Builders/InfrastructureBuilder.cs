using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Portal.Infrastructure;

namespace Portal.UnitTests.Builders;

/// <summary>The infrastructure layer composed as the portal composes it, without the web host.</summary>
public sealed class InfrastructureBuilder
{
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<Action<IServiceCollection>> _extra = [];

    public InfrastructureBuilder(string dataDirectory)
    {
        _settings["Portal:DataDirectory"] = dataDirectory;
        _settings["Portal:Demo:Password"] = PortalFactory.DemoPassword;
        _settings["Portal:Demo:GeneratedRuns"] = "100";
        _settings["Portal:Isolation:WorkRoot"] = TempFolder.WorkRootOf(dataDirectory);
    }

    public InfrastructureBuilder With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    public InfrastructureBuilder Services(Action<IServiceCollection> configure)
    {
        _extra.Add(configure);
        return this;
    }

    public ServiceProvider Build()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(_settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.SetMinimumLevel(LogLevel.Warning));
        services.AddSingleton<IConfiguration>(configuration);
        var environment = new TestEnvironment();
        services.AddSingleton<IHostEnvironment>(environment);
        services.AddInfrastructure(configuration, environment);
        foreach (var configure in _extra)
        {
            configure(services);
        }

        return services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true });
    }

    /// <summary>Builds and brings the database up to date, as start-up does.</summary>
    public async Task<ServiceProvider> StartAsync()
    {
        var provider = Build();
        await provider.InitializePortalAsync();
        return provider;
    }

    private sealed class TestEnvironment : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";

        public string ApplicationName { get; set; } = "Portal.Tests";

        public string ContentRootPath { get; set; } = Path.GetTempPath();

        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }
}
