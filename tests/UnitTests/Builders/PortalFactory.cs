using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Portal.UnitTests.Builders;

/// <summary>
/// The real portal in memory, on its own temporary data folder (SQLite file unless told otherwise), with
/// demo users whose password is <see cref="DemoPassword"/>.
/// </summary>
public class PortalFactory : WebApplicationFactory<Program>
{
    public const string DemoPassword = "Test-Demo-Passw0rd!";

    /// <summary>Test-only header naming the client address a request appears to come from (default: loopback).</summary>
    public const string RemoteAddressHeader = "X-Test-Remote-Address";

    private readonly TempFolder _data = new("portal-api");
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

    public PortalFactory()
    {
        _settings["Portal:DataDirectory"] = _data.Path;
        _settings["Portal:Demo:Password"] = DemoPassword;
        // A small generated history keeps every test portal quick to seed; E2E and the demo use 10,000.
        _settings["Portal:Demo:GeneratedRuns"] = "100";
        // Model servers go with the test portal that started them; sample traffic only where a test asks for it.
        _settings["Portal:Deployments:StopInstancesOnShutdown"] = "true";
        _settings["Portal:Deployments:SampleTraffic:Enabled"] = "false";
        _settings["Portal:Demo:SimulatedFleet"] = "false";
    }

    public string DataDirectory => _data.Path;

    /// <summary>The portal's clock; tests move it to expire things.</summary>
    public FixedTime Time { get; } = new();

    /// <summary>Sets a configuration value before the portal starts.</summary>
    public PortalFactory With(string key, string? value)
    {
        _settings[key] = value;
        return this;
    }

    /// <summary>A client that sends Basic credentials of <paramref name="userName"/>.</summary>
    public HttpClient ClientFor(string userName, string password = DemoPassword)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = Basic(userName, password);
        return client;
    }

    /// <summary>A client with no credentials that does not follow redirects.</summary>
    public HttpClient AnonymousClient() => CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });

    /// <summary>Waits until the demo datasets (seeded in the background) are in, so they do not disturb a test.</summary>
    public async Task WaitForDemoDataAsync()
    {
        var seeder = Services.GetRequiredService<Portal.Infrastructure.Demo.DemoSeeder>();
        var until = DateTime.UtcNow.AddSeconds(90);
        while (seeder.Active && seeder.Progress?.State is not (Portal.Infrastructure.Demo.DemoSeedState.Completed or Portal.Infrastructure.Demo.DemoSeedState.Failed))
        {
            Assert.True(DateTime.UtcNow < until, "Demo seeding did not finish in 90 s.");
            await Task.Delay(100);
        }
    }

    /// <summary>Every file under the artifact store, temporary ones included.</summary>
    public List<string> ArtifactFiles()
    {
        var root = Path.Combine(DataDirectory, "artifacts");
        return Directory.Exists(root) ? [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }

    public static AuthenticationHeaderValue Basic(string userName, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{password}")));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        if (!_settings.ContainsKey("Portal:Isolation:WorkRoot"))
        {
            _settings["Portal:Isolation:WorkRoot"] = TempFolder.WorkRootOf(_settings["Portal:DataDirectory"]!);
        }

        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseEnvironment("Production");
        builder.ConfigureTestServices(services =>
        {
            services.AddSingleton<TimeProvider>(Time);
            services.AddSingleton<IStartupFilter, RemoteAddressStartupFilter>();
        });
    }

    /// <summary>TestServer has no real client address; this lets a test say where a request comes from.</summary>
    private sealed class RemoteAddressStartupFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((context, nextMiddleware) =>
            {
                context.Connection.RemoteIpAddress = context.Request.Headers.TryGetValue(RemoteAddressHeader, out var address)
                    ? IPAddress.Parse(address.ToString())
                    : IPAddress.Loopback;
                return nextMiddleware(context);
            });
            next(app);
        };
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing)
        {
            _data.Dispose();
        }
    }
}
