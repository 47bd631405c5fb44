using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Portal.Domain.Identity;
using Portal.Features.Navigation;
using Portal.Infrastructure.Identity;

namespace Portal.Security;

public static class SecurityServiceCollectionExtensions
{
    /// <summary>The scheme that picks the right handler for each request (see <see cref="SelectScheme"/>).</summary>
    public const string PortalScheme = "Portal";

    /// <summary>
    /// Cookies for browsers, Basic and personal access tokens for scripts, App Service authentication
    /// headers when configured; a policy per area; every route requires a signed-in caller unless it says
    /// otherwise.
    /// </summary>
    public static IServiceCollection AddPortalSecurity(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section));
        var appService = configuration.GetSection(AuthOptions.Section).Get<AuthOptions>()?.AppServiceAuthentication ?? new();

        services.AddMemoryCache();
        services.AddScoped<SecurityEvents>();
        services.AddScoped<SignInService>();
        services.AddSingleton<PlatformUsers>();
        services.AddSingleton<PageRequirements>();

        services.AddAuthentication(options =>
            {
                options.DefaultScheme = PortalScheme;
                options.DefaultChallengeScheme = PortalScheme;
                options.DefaultForbidScheme = PortalScheme;
                options.DefaultSignInScheme = IdentityConstants.ApplicationScheme;
            })
            .AddPolicyScheme(PortalScheme, "Portal", options => options.ForwardDefaultSelector = context => SelectScheme(context, appService.Enabled))
            .AddScheme<AuthenticationSchemeOptions, BasicAuthenticationHandler>(BasicAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AccessTokenAuthenticationHandler>(AccessTokenAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, EndpointKeyAuthenticationHandler>(EndpointKeyAuthenticationHandler.SchemeName, null)
            .AddScheme<AuthenticationSchemeOptions, AppServiceAuthenticationHandler>(AppServiceAuthenticationHandler.SchemeName, null)
            .AddIdentityCookies();

        services.ConfigureApplicationCookie(options =>
        {
            options.LoginPath = "/account/login";
            options.LogoutPath = "/account/logout";
            options.AccessDeniedPath = "/account/access-denied";
            options.Cookie.Name = "mlops.auth";
            options.Cookie.HttpOnly = true;
            options.Cookie.SameSite = SameSiteMode.Lax;
            options.SlidingExpiration = true;
            options.ExpireTimeSpan = TimeSpan.FromHours(12);
            options.Events = new CookieAuthenticationEvents
            {
                OnRedirectToLogin = context => Problems.IsApiRequest(context.Request)
                    ? Problems.UnauthorizedAsync(context.HttpContext,
                        "Sign in: send 'Authorization: Basic base64(user:password)' or 'Authorization: Bearer <personal access token>'.")
                    : RedirectAsync(context),
                OnRedirectToAccessDenied = context => Problems.IsApiRequest(context.Request)
                    ? Problems.WriteAsync(context.HttpContext, StatusCodes.Status403Forbidden, "Forbidden", "Your roles do not allow this.")
                    : RedirectAsync(context),
            };
        });

        // Role changes and lock-outs reach open browser sessions within a minute.
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = TimeSpan.FromMinutes(1));

        services.AddAuthorization(options =>
        {
            options.FallbackPolicy = new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build();
            foreach (var area in PortalAreas.All.Where(a => a.Policy is not null))
            {
                options.AddPolicy(area.Policy!, p => p.RequireAuthenticatedUser().RequireRole(area.Roles));
            }

            options.AddPolicy(PortalAreas.Policies.DatasetsWrite, p => p.RequireAuthenticatedUser().RequireRole(Roles.DataScientist, Roles.Admin));
            options.AddPolicy(PortalAreas.Policies.LineageWrite, p => p.RequireAuthenticatedUser().RequireRole(Roles.DataScientist, Roles.Ops, Roles.Admin));
            options.AddPolicy(PortalAreas.Policies.Metrics, p => p.RequireAuthenticatedUser().RequireRole(Roles.Ops, Roles.Admin));
        });
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, PortalAuthorizationResultHandler>();

        services.AddCascadingAuthenticationState();
        services.AddScoped<AuthenticationStateProvider, RevalidatingIdentityStateProvider>();
        return services;
    }

    /// <summary>Basic and Bearer headers go to the script handlers; the platform header to App Service; the rest to cookies.</summary>
    internal static string SelectScheme(HttpContext context, bool appServiceEnabled)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return BasicAuthenticationHandler.SchemeName;
        }

        if (EndpointKeyAuthenticationHandler.Applies(context.Request))
        {
            return EndpointKeyAuthenticationHandler.SchemeName;
        }

        if (AccessTokenAuthenticationHandler.PresentedToken(context.Request) is not null)
        {
            return AccessTokenAuthenticationHandler.SchemeName;
        }

        if (appServiceEnabled && context.Request.Headers.ContainsKey(AppServiceAuthenticationHandler.PrincipalHeader))
        {
            return AppServiceAuthenticationHandler.SchemeName;
        }

        return IdentityConstants.ApplicationScheme;
    }

    private static Task RedirectAsync(RedirectContext<CookieAuthenticationOptions> context)
    {
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }
}
