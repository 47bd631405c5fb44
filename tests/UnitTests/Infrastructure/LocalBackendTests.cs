using Portal.Domain.Ports;
using Portal.Infrastructure.Configuration;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

public class LocalBackendTests : IDisposable
{
    private readonly TempFolder _data = new();

    [Fact]
    public async Task WithDebianPython_IsHealthy()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();

        var health = await services.GetRequiredService<IWorkspaceBackend>().CheckHealthAsync(CancellationToken.None);

        Assert.Equal(BackendHealthStatus.Healthy, health.Status);
        Assert.Equal("local", services.GetRequiredService<IWorkspaceBackend>().Kind);
    }

    [Fact]
    public async Task WithMissingPython_IsDegraded_AndSaysWhichSetting()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).With("Portal:Local:Python", "/nonexistent/python3").StartAsync();

        var health = await services.GetRequiredService<IWorkspaceBackend>().CheckHealthAsync(CancellationToken.None);

        Assert.Equal(BackendHealthStatus.Degraded, health.Status);
        Assert.Contains("Portal:Local:Python", health.Description);
    }

    [Fact]
    public async Task WithUnwritableRunsFolder_IsUnhealthy()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        var runs = services.GetRequiredService<DataDirectory>().RunsFolder;
        Directory.Delete(runs, recursive: true);
        File.WriteAllText(runs, "a file where the runs folder should be");

        var health = await services.GetRequiredService<IWorkspaceBackend>().CheckHealthAsync(CancellationToken.None);

        Assert.Equal(BackendHealthStatus.Unhealthy, health.Status);
        Assert.Contains(runs, health.Description);
    }

    [Theory]
    [InlineData("/srv/portal-data", "/srv/portal-data")]
    public void DataDirectory_AbsolutePath_IsUsedAsGiven(string configured, string expected)
    {
        Assert.Equal(expected, DataDirectory.Resolve(configured, "/anywhere").Root);
    }

    [Fact]
    public void DataDirectory_RelativePath_IsUnderTheRepositoryRootWhenInAClone()
    {
        var repo = Path.Combine(_data.Path, "clone");
        Directory.CreateDirectory(Path.Combine(repo, "src", "Portal"));
        File.WriteAllText(Path.Combine(repo, "MlopsPortal.sln"), "");

        Assert.Equal(Path.Combine(repo, "data"), DataDirectory.Resolve("./data", Path.Combine(repo, "src", "Portal")).Root);
        Assert.Equal(Path.Combine(_data.Path, "data"), DataDirectory.Resolve("./data", _data.Path).Root);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }
}
