using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.SignalR;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>Every route the portal maps refuses anonymous callers, except the few that must not.</summary>
public partial class EndpointSecurityTests : IClassFixture<PortalFactory>
{
    /// <summary>Anonymous on purpose: health probes, the sign-in page, and the error pages shown when things go wrong.</summary>
    private static readonly HashSet<string> AnonymousRoutes = ["/healthz", "/account/login", "/error", "/not-found", "/status/{Code:int}"];

    private readonly PortalFactory _portal;

    public EndpointSecurityTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task EveryMappedEndpoint_RejectsAnonymousCallers()
    {
        var endpoints = _portal.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        var client = _portal.AnonymousClient();
        var checkedRoutes = new List<string>();
        var failures = new List<string>();

        foreach (var endpoint in endpoints)
        {
            var route = "/" + endpoint.RoutePattern.RawText!.TrimStart('/');
            if (IsStaticAsset(endpoint) || AnonymousRoutes.Contains(route))
            {
                continue;
            }

            // SignalR's negotiate endpoints carry no method metadata; clients POST to them.
            var methods = endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods
                ?? (endpoint.Metadata.GetMetadata<NegotiateMetadata>() is not null ? ["POST"] : ["GET"]);
            foreach (var method in methods.Where(m => m != "OPTIONS"))
            {
                var url = Fill(route);
                using var request = new HttpRequestMessage(new HttpMethod(method), url);
                if (method is "POST" or "PUT" or "PATCH")
                {
                    request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
                }

                using var response = await client.SendAsync(request);
                checkedRoutes.Add($"{method} {url}");
                var rejected = response.StatusCode == HttpStatusCode.Unauthorized
                    || (response.StatusCode == HttpStatusCode.Redirect && response.Headers.Location!.AbsolutePath == "/account/login");
                if (!rejected)
                {
                    failures.Add($"{method} {url} answered {(int)response.StatusCode} to an anonymous caller");
                }
            }
        }

        Assert.Empty(failures);
        // The enumeration really covered the surface (API, hub, pages, Blazor's own hub).
        Assert.Contains(checkedRoutes, r => r.StartsWith("POST /api/v1/tokens", StringComparison.Ordinal));
        Assert.Contains(checkedRoutes, r => r.StartsWith("GET /api/v1/audit", StringComparison.Ordinal));
        Assert.Contains(checkedRoutes, r => r.StartsWith("POST /hubs/status/negotiate", StringComparison.Ordinal));
        Assert.Contains(checkedRoutes, r => r.StartsWith("GET /admin", StringComparison.Ordinal));
        Assert.Contains(checkedRoutes, r => r.StartsWith("GET /openapi/", StringComparison.Ordinal));
        Assert.Contains(checkedRoutes, r => r.StartsWith("POST /_blazor/negotiate", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnonymousRoutes_AreReallyOpen()
    {
        var client = _portal.AnonymousClient();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/healthz")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/account/login")).StatusCode);
    }

    [Fact]
    public async Task EveryHub_RefusesAnonymousConnections_AndEveryHubMethodRequiresAuthorization()
    {
        var hubs = _portal.Services.GetRequiredService<EndpointDataSource>().Endpoints
            .Select(e => (Endpoint: e as RouteEndpoint, Hub: e.Metadata.GetMetadata<HubMetadata>()))
            .Where(x => x.Endpoint is not null && x.Hub is not null && x.Endpoint.RoutePattern.RawText!.EndsWith("/negotiate", StringComparison.Ordinal))
            .ToList();
        Assert.Contains(hubs, h => h.Hub!.HubType.Name == "StatusHub");

        foreach (var (endpoint, hub) in hubs)
        {
            var negotiate = await _portal.AnonymousClient().PostAsync(endpoint!.RoutePattern.RawText + "?negotiateVersion=1", null);
            Assert.True(negotiate.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Redirect, $"{hub!.HubType.Name} negotiated anonymously: {(int)negotiate.StatusCode}");

            // Our own hubs must say so on every method; the framework's (Blazor's circuit hub) rely on the fallback policy checked above.
            var hubType = hub!.HubType;
            if (hubType.Assembly != typeof(Program).Assembly)
            {
                continue;
            }

            var classRequiresAuth = hubType.GetCustomAttributes<AuthorizeAttribute>(true).Any();
            foreach (var method in hubType.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).Where(m => !m.IsSpecialName))
            {
                var allowsAnonymous = method.GetCustomAttributes<AllowAnonymousAttribute>().Any();
                Assert.True((classRequiresAuth || method.GetCustomAttributes<AuthorizeAttribute>().Any()) && !allowsAnonymous,
                    $"Hub method {hubType.Name}.{method.Name} can be called without authorization.");
            }
        }
    }

    /// <summary>Files of wwwroot and packages (CSS, scripts, fonts): served to anyone, the sign-in page needs them.</summary>
    private static bool IsStaticAsset(RouteEndpoint endpoint) =>
        endpoint.Metadata.Any(m => m.GetType().Name.StartsWith("StaticAsset", StringComparison.Ordinal))
        || (endpoint.DisplayName?.Contains("StaticAsset", StringComparison.Ordinal) ?? false)
        || endpoint.RoutePattern.RawText == "{**path:file}";

    /// <summary>Fills route parameters with plausible values so the request reaches the endpoint.</summary>
    private static string Fill(string route) => RouteParameter().Replace(route, m =>
        m.Groups["constraint"].Value.Contains("guid", StringComparison.Ordinal) ? Guid.NewGuid().ToString()
        : m.Groups["constraint"].Value.Contains("int", StringComparison.Ordinal) || m.Groups["constraint"].Value.Contains("long", StringComparison.Ordinal) ? "1"
        : "x");

    [GeneratedRegex(@"\{\*{0,2}(?<name>[^}:=?]+)(?<constraint>[^}]*)\}")]
    private static partial Regex RouteParameter();
}
