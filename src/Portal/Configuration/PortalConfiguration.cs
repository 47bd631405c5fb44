using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;

namespace Portal.Configuration;

public static class PortalConfiguration
{
    /// <summary>
    /// Reads the operator's appsettings.json (kept at the repository root and copied next to the binaries
    /// by the build, so <c>dotnet run</c> and a published portal read the same file). Environment variables
    /// and the command line still override it.
    /// </summary>
    public static WebApplicationBuilder AddPortalConfiguration(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var file = Path.Combine(AppContext.BaseDirectory, "appsettings.json");
        var source = new JsonConfigurationSource { Path = file, Optional = true, ReloadOnChange = false };
        source.ResolveFileProvider();

        var sources = builder.Configuration.Sources;
        var before = sources.ToList().FindIndex(s => s is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
        if (before < 0)
        {
            sources.Add(source);
        }
        else
        {
            sources.Insert(before, source);
        }

        builder.Host.ConfigureHostOptions(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        return builder;
    }
}
