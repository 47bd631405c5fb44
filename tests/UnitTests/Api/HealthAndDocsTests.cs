using System.Net;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Portal.Infrastructure.Configuration;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class HealthAndDocsTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;

    public HealthAndDocsTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task Healthz_ReportsDatabaseAndBackend()
    {
        var health = await (await _portal.AnonymousClient().GetAsync("/healthz")).JsonAsync();

        Assert.Equal("Healthy", health.GetProperty("status").GetString());
        var checks = health.GetProperty("checks").EnumerateArray().Select(c => c.GetProperty("name").GetString()).ToList();
        Assert.Equal(["database", "workspace-backend"], checks);
    }

    [Fact]
    public async Task OpenApi_DescribesTheApi_ToSignedInCallers()
    {
        var document = await (await _portal.ClientFor("viewer@demo.local").GetAsync("/openapi/v1.json")).JsonAsync();

        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/tokens", out _));
        Assert.True(paths.TryGetProperty("/api/v1/audit", out _));
        Assert.True(paths.TryGetProperty("/api/v1/me", out _));
    }

    [Fact]
    public async Task UnknownApiRoute_IsAProblemNotAPage()
    {
        var response = await _portal.ClientFor("viewer@demo.local").GetAsync("/api/v1/no-such-thing");

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }
}

public class UnhealthyBackendTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    [Fact]
    public async Task Healthz_Is503NamingTheFailingCheck_WhenTheBackendCannotWrite()
    {
        _ = _portal.Services; // start the portal
        var runs = _portal.Services.GetRequiredService<DataDirectory>().RunsFolder;
        Directory.Delete(runs, recursive: true);
        await File.WriteAllTextAsync(runs, "not a folder");

        var response = await _portal.AnonymousClient().GetAsync("/healthz");

        var health = await response.JsonAsync(HttpStatusCode.ServiceUnavailable);
        var backend = health.GetProperty("checks").EnumerateArray().Single(c => c.GetProperty("name").GetString() == "workspace-backend");
        Assert.Equal(nameof(HealthStatus.Unhealthy), backend.GetProperty("status").GetString());
        Assert.Contains("not writable", backend.GetProperty("description").GetString());
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }
}
