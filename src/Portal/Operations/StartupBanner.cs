using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Portal.Infrastructure.Demo;

namespace Portal.Operations;

/// <summary>Once listening, says where the portal is and how to sign in: the first thing an operator needs.</summary>
internal sealed partial class StartupBanner(IServer server, IHostApplicationLifetime lifetime, DemoSeeder demo, ILogger<StartupBanner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        lifetime.ApplicationStarted.Register(() =>
        {
            var addresses = server.Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var at = string.Join(", ", addresses);
            if (demo.Active && demo.PasswordHint is { } hint)
            {
                LogReadyWithDemo(at, string.Join(", ", DemoUsers.All.Select(u => u.Email)), hint);
            }
            else
            {
                LogReady(at);
            }
        });
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "MLOps Portal is ready at {Addresses}. Sign in as one of {Users} with {PasswordHint}")]
    private partial void LogReadyWithDemo(string addresses, string users, string passwordHint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MLOps Portal is ready at {Addresses}")]
    private partial void LogReady(string addresses);
}
