using Portal.Components;
using Portal.Features.Account;
using Portal.Hubs;
using Portal.Operations;
using Portal.Security;
using Radzen;

namespace Portal;

/// <summary>The portal's own composition: UI, live hub and the HTTP pipeline.</summary>
public static class PortalApplication
{
    public static IServiceCollection AddPortalUi(this IServiceCollection services, IWebHostBuilder webHost)
    {
        ArgumentNullException.ThrowIfNull(webHost);
        // Serve _content/* (Radzen's assets) from the packages when running from build output in any
        // environment, not only Development; a published portal has them in wwwroot anyway.
        webHost.UseStaticWebAssets();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddRadzenComponents();
        services.AddHttpContextAccessor();
        return services;
    }

    public static IServiceCollection AddPortalLive(this IServiceCollection services)
    {
        services.AddSignalR();
        services.AddHostedService<HubRelay>();
        return services;
    }

    /// <summary>Errors as problem JSON on script routes and as a page in the browser; then logging, auth, antiforgery.</summary>
    public static WebApplication UsePortalPipeline(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.UseWhen(c => Problems.IsApiRequest(c.Request), api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });
        app.UseWhen(c => !Problems.IsApiRequest(c.Request), pages =>
        {
            pages.UseExceptionHandler("/error", createScopeForErrors: true);
            pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
        });
        app.UseMiddleware<RequestLogging>();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapPortalLive(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapHub<StatusHub>(StatusHub.Path);
        return app;
    }

    public static WebApplication MapPortalUi(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapStaticAssets().AllowAnonymous();
        app.MapAccountEndpoints();
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode();
        return app;
    }
}
