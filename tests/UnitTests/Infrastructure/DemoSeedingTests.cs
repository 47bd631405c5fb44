using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Portal.Domain.Identity;
using Portal.Domain.Ports;
using Portal.Infrastructure;
using Portal.Infrastructure.Demo;
using Portal.Infrastructure.Persistence;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

public class DemoSeedingTests : IDisposable
{
    private readonly TempFolder _data = new();

    [Fact]
    public async Task FirstStart_CreatesOneDemoUserPerApiRole_WhoCanSignIn()
    {
        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await using var scope = services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();

        var expected = new Dictionary<string, string>
        {
            ["scientist@demo.local"] = Roles.DataScientist,
            ["reviewer@demo.local"] = Roles.RiskReviewer,
            ["reviewer2@demo.local"] = Roles.RiskReviewer,
            ["ops@demo.local"] = Roles.Ops,
            ["admin@demo.local"] = Roles.Admin,
            ["viewer@demo.local"] = Roles.Viewer,
        };
        foreach (var (email, role) in expected)
        {
            var user = await users.FindByNameAsync(email);
            Assert.NotNull(user);
            Assert.Equal([role], await users.GetRolesAsync(user));
            Assert.True(await users.CheckPasswordAsync(user, PortalFactory.DemoPassword));
        }
    }

    [Fact]
    public async Task WithoutConfiguredPassword_GeneratesOne_WritesItOnce_AndReusesIt()
    {
        string password;
        await using (var services = await new InfrastructureBuilder(_data.Path).With("Portal:Demo:Password", null).StartAsync())
        {
            var file = Path.Combine(_data.Path, "demo-credentials.txt");
            password = File.ReadAllLines(file).Single(l => l.StartsWith("password: ", StringComparison.Ordinal))["password: ".Length..];
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            }
            await using var scope = services.CreateAsyncScope();
            var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
            Assert.True(await users.CheckPasswordAsync((await users.FindByNameAsync("admin@demo.local"))!, password));
        }

        await using (var again = await new InfrastructureBuilder(_data.Path).With("Portal:Demo:Password", null).StartAsync())
        {
            var text = await File.ReadAllTextAsync(Path.Combine(_data.Path, "demo-credentials.txt"));
            Assert.Contains(password, text);
        }
    }

    [Fact]
    public async Task SecondStart_DoesNotSeedAgain()
    {
        await using (await new InfrastructureBuilder(_data.Path).StartAsync())
        {
        }

        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(6, await db.Users.CountAsync());
        Assert.Equal(1, await db.AuditEntries.CountAsync(e => e.Action == "portal.initialized"));
    }

    [Fact]
    public async Task WeakDemoPassword_StopsStartWithAClearMessage_AndCreatesNoUsers()
    {
        var builder = new InfrastructureBuilder(_data.Path).With("Portal:Demo:Password", "short");

        await using var services = builder.Build();
        var ex = await Assert.ThrowsAsync<InvalidOperationException>(() => services.InitializePortalAsync());

        Assert.Contains("Portal:Demo:Password", ex.Message);
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Users.CountAsync());
    }

    [Fact]
    public async Task ExistingPortalWithoutDemoData_IsLeftAlone()
    {
        await using (await new InfrastructureBuilder(_data.Path).With("Portal:Demo:Enabled", "false").StartAsync())
        {
        }

        await using var services = await new InfrastructureBuilder(_data.Path).StartAsync();
        await using var db = await services.GetRequiredService<IDbContextFactory<PortalDbContext>>().CreateDbContextAsync();
        Assert.Equal(0, await db.Users.CountAsync());
        Assert.False(services.GetRequiredService<DemoSeeder>().Active);
    }

    [Fact]
    public async Task BackgroundSteps_RunAfterStart_InOrder_AndReportProgress()
    {
        var log = new List<string>();
        await using var services = await new InfrastructureBuilder(_data.Path)
            .Services(s => s.AddSingleton(log).AddDemoSeedStep<SecondStep>().AddDemoSeedStep<FirstStep>())
            .StartAsync();
        var seeder = services.GetRequiredService<DemoSeeder>();
        var completed = new TaskCompletionSource<DemoSeedingProgressed>();
        using var _ = services.GetRequiredService<IEventBus>().Subscribe<DemoSeedingProgressed>(batch =>
        {
            if (batch.FirstOrDefault(p => p.State == DemoSeedState.Completed) is { } done)
            {
                completed.TrySetResult(done);
            }

            return Task.CompletedTask;
        });

        Assert.Empty(log);
        await seeder.RunBackgroundStepsAsync(CancellationToken.None);

        Assert.Equal(["first", "second"], log);
        var done = await completed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        // Built-in steps (demo users, demo datasets) plus the two registered here.
        var steps = services.GetServices<IDemoSeedStep>().Count();
        Assert.True(steps >= 4, $"expected the built-in steps and both test steps, got {steps}");
        Assert.Equal(steps, done.Total);
        Assert.Equal(steps, done.Completed);

        await seeder.RunBackgroundStepsAsync(CancellationToken.None);
        Assert.Equal(2, log.Count);
    }

    public void Dispose()
    {
        _data.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class FirstStep(List<string> log) : IDemoSeedStep
    {
        public string Name => "first";

        public int Order => 10;

        public bool BeforeStartup => false;

        public string Description => "first test step";

        public Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
        {
            log.Add(Name);
            return Task.CompletedTask;
        }
    }

    private sealed class SecondStep(List<string> log) : IDemoSeedStep
    {
        public string Name => "second";

        public int Order => 20;

        public bool BeforeStartup => false;

        public string Description => "second test step";

        public Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken)
        {
            log.Add(Name);
            return Task.CompletedTask;
        }
    }
}
