using System.Net;
using Microsoft.AspNetCore.Mvc.Testing;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>Every kind of answer — a page, an API answer, a static file — carries the portal's security headers.</summary>
public class SecurityHeadersTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    [Theory]
    [InlineData("/account/login", true)]
    [InlineData("/api/v1/me", false)]
    [InlineData("/app.css", false)]
    [InlineData("/api/v1/no-such-route", false)]
    public async Task AnAnswer_CarriesTheSecurityHeaders(string url, bool page)
    {
        var response = await portal.ClientFor("viewer@demo.local").GetAsync(url);

        Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
        Assert.Equal("DENY", Single(response, "X-Frame-Options"));
        Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
        var policy = Single(response, "Content-Security-Policy");
        Assert.Contains("frame-ancestors 'none'", policy);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS over plain HTTP means nothing and is not sent.");
        if (page)
        {
            // Scripts only from the portal; the framework's one inline script (the import map) by this request's nonce.
            Assert.Contains("script-src 'self' 'nonce-", policy);
            Assert.DoesNotContain("unsafe-eval", policy);
            Assert.DoesNotContain("'unsafe-inline'", policy.Split(';').Single(d => d.Trim().StartsWith("script-src", StringComparison.Ordinal)));
            var nonce = policy.Split("'nonce-")[1].Split('\'')[0];
            var importMap = System.Text.RegularExpressions.Regex.Match(await response.Content.ReadAsStringAsync(), "<script[^>]*importmap[^>]*>").Value;
            Assert.Contains($"nonce=\"{nonce}\"", importMap);
        }
        else
        {
            Assert.StartsWith("default-src 'none'", policy);
        }
    }

    [Fact]
    public async Task OverHttps_AnswersCarryHsts()
    {
        var client = portal.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost"), AllowAutoRedirect = false });

        var response = await client.GetAsync("/account/login");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("max-age=31536000", Single(response, "Strict-Transport-Security"));
    }

    [Fact]
    public async Task EachPage_GetsANewNonce()
    {
        var client = portal.AnonymousClient();

        var first = Single(await client.GetAsync("/account/login"), "Content-Security-Policy");
        var second = Single(await client.GetAsync("/account/login"), "Content-Security-Policy");

        Assert.NotEqual(first, second);
    }

    private static string Single(HttpResponseMessage response, string header) =>
        response.Headers.TryGetValues(header, out var values) || response.Content.Headers.TryGetValues(header, out values)
            ? Assert.Single(values)
            : throw new Xunit.Sdk.XunitException($"{header} is missing from {response.RequestMessage!.RequestUri}.");
}
