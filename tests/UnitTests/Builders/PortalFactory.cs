using System.Net.Http.Headers;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;

namespace Portal.UnitTests.Builders;

/// <summary>
/// The real portal in memory, on its own temporary data folder (SQLite file unless told otherwise), with
/// demo users whose password is <see cref="DemoPassword"/>.
/// </summary>
public class PortalFactory : WebApplicationFactory<Program>
{
    public const string DemoPassword = "Test-Demo-Passw0rd!";

    private readonly TempFolder _data = new("portal-api");
    private readonly Dictionary<string, string?> _settings = new(StringComparer.OrdinalIgnoreCase);

    public PortalFactory()
    {
        _settings["Portal:DataDirectory"] = _data.Path;
        _settings["Portal:Demo:Password"] = DemoPassword;
    }

    public string DataDirectory => _data.Path;

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

    public static AuthenticationHeaderValue Basic(string userName, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{userName}:{password}")));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.UseEnvironment("Production");
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
