using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc.Testing;

namespace Portal.UnitTests.Builders;

/// <summary>
/// A client that keeps cookies the way a browser does and lets a test read and copy them (the factory's
/// own cookie handling hides them), and that signs in through the real sign-in form.
/// </summary>
public sealed partial class CookieBrowser
{
    public const string AuthCookie = "mlops.auth";

    private readonly HttpClient _client;

    public CookieBrowser(PortalFactory portal)
    {
        ArgumentNullException.ThrowIfNull(portal);
        _client = portal.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = false });
    }

    public Dictionary<string, string> Cookies { get; } = new(StringComparer.Ordinal);

    public static async Task<CookieBrowser> SignInAsync(PortalFactory portal, string userName, string password = PortalFactory.DemoPassword)
    {
        var browser = new CookieBrowser(portal);
        var login = await browser.GetStringAsync("/account/login");
        var response = await browser.PostFormAsync("/account/login",
            ("_handler", "login"), ("__RequestVerificationToken", TokenIn(login)), ("Input.Email", userName), ("Input.Password", password));
        Assert.True(response.StatusCode == HttpStatusCode.Redirect && browser.Cookies.ContainsKey(AuthCookie),
            $"Sign-in answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return browser;
    }

    public Task<HttpResponseMessage> GetAsync(string url) => SendAsync(new HttpRequestMessage(HttpMethod.Get, url));

    public async Task<string> GetStringAsync(string url) => await (await GetAsync(url)).Content.ReadAsStringAsync();

    public Task<HttpResponseMessage> PostFormAsync(string url, params (string Name, string Value)[] fields) =>
        SendAsync(new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))) });

    public async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (Cookies.Count > 0)
        {
            request.Headers.Add("Cookie", string.Join("; ", Cookies.Select(c => $"{c.Key}={c.Value}")));
        }

        var response = await _client.SendAsync(request);
        foreach (var header in response.Headers.TryGetValues("Set-Cookie", out var values) ? values : [])
        {
            var pair = header.Split(';', 2)[0];
            var (name, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            if (value.Length == 0 || header.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase))
            {
                Cookies.Remove(name);
            }
            else
            {
                Cookies[name] = value;
            }
        }

        return response;
    }

    /// <summary>The antiforgery token of the first form on a page.</summary>
    public static string TokenIn(string html) => AntiforgeryField().Match(html) is { Success: true } match
        ? WebUtility.HtmlDecode(match.Groups[1].Value)
        : throw new InvalidOperationException("The page has no antiforgery field.");

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
