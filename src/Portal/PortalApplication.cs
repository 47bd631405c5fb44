using Portal.Components;
using Portal.Features.Account;
using Portal.Hubs;
using Portal.Operations;
using Portal.Security;
using MudBlazor;
using MudBlazor.Services;

namespace Portal;

/// <summary>The portal's own composition: UI, live hub and the HTTP pipeline.</summary>
public static class PortalApplication
{
    public static IServiceCollection AddPortalUi(this IServiceCollection services, IWebHostBuilder webHost)
    {
        ArgumentNullException.ThrowIfNull(webHost);
        // Serve _content/* (MudBlazor's and Plotly.Blazor's assets) from the packages when running from build
        // output in any environment, not only Development; a published portal has them in wwwroot anyway.
        webHost.UseStaticWebAssets();
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddMudServices(options =>
        {
            options.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomRight;
            options.SnackbarConfiguration.VisibleStateDuration = 8000;
            options.SnackbarConfiguration.MaxDisplayedSnackbars = 3;
        });
        services.AddHttpContextAccessor();
        services.AddScoped<Components.Layout.PageTrail>();
        services.AddHostedService<StartupBanner>();
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
        app.UseMiddleware<SecurityHeaders>();
        // Pages: an error or an empty error status re-renders a page. These sit on the main pipeline,
        // where re-execution re-runs routing (inside a UseWhen branch it would not).
        app.UseExceptionHandler("/error", createScopeForErrors: true);
        app.UseStatusCodePagesWithReExecute("/status/{0}", createScopeForStatusCodePages: true);
        // Script routes: answered first, inside the page handlers, as problem JSON, so those never see them.
        app.UseWhen(c => Problems.IsApiRequest(c.Request), api =>
        {
            api.UseExceptionHandler();
            api.UseStatusCodePages();
        });
        app.UseMiddleware<RequestLogging>();
        app.UseAuthentication();
        app.UseMiddleware<CrossSiteRequestGuard>();
        app.UseAuthorization();
        app.UsePortalHttpMetrics();
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
