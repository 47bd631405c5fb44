namespace Portal.Infrastructure.Demo;

/// <summary>
/// One piece of demo data. Steps run once per data folder, in <see cref="Order"/>; each capability adds
/// its own step by registering it (<c>services.AddDemoSeedStep&lt;T&gt;()</c>).
/// </summary>
public interface IDemoSeedStep
{
    /// <summary>Stable name, recorded when the step has run. Never rename a shipped step.</summary>
    string Name { get; }

    /// <summary>Steps run in ascending order.</summary>
    int Order { get; }

    /// <summary>Runs before the portal takes requests (people must be able to sign in at once); others run in the background.</summary>
    bool BeforeStartup { get; }

    /// <summary>What the step adds, shown while it runs.</summary>
    string Description { get; }

    Task RunAsync(DemoSeedContext context, CancellationToken cancellationToken);
}

/// <summary>What a step may use: a scope of services for this run, and the demo password.</summary>
public sealed record DemoSeedContext(IServiceProvider Services, string Password);
