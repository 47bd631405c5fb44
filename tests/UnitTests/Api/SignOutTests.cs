using System.Net;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>
/// A browser session lives on the server: signing out, or being locked by an administrator, ends it for
/// every copy of the cookie at once; and signing out needs the form's antiforgery token.
/// </summary>
public class SignOutTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    [Fact]
    public async Task AfterSigningOut_ACopiedAuthCookie_NoLongerWorks()
    {
        var browser = await CookieBrowser.SignInAsync(portal, "scientist@demo.local");
        var thief = new CookieBrowser(portal);
        thief.Cookies[CookieBrowser.AuthCookie] = browser.Cookies[CookieBrowser.AuthCookie];
        Assert.Equal(HttpStatusCode.OK, (await thief.GetAsync("/api/v1/me")).StatusCode);

        var token = CookieBrowser.TokenIn(await browser.GetStringAsync("/account/tokens"));
        var signOut = await browser.PostFormAsync("/account/logout", ("__RequestVerificationToken", token));

        Assert.Equal(HttpStatusCode.Redirect, signOut.StatusCode);
        Assert.Equal("/account/login", signOut.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.Unauthorized, (await thief.GetAsync("/api/v1/me")).StatusCode);
        // The pages too: the copied cookie is sent to the sign-in page like any stranger.
        Assert.Equal("/account/login", (await thief.GetAsync("/datasets")).Headers.Location!.AbsolutePath);
    }

    [Fact]
    public async Task SignOut_WithoutItsAntiforgeryToken_IsRefused_AndTheSessionLives()
    {
        var browser = await CookieBrowser.SignInAsync(portal, "viewer@demo.local");

        var forged = await browser.PostFormAsync("/account/logout");

        Assert.Equal(HttpStatusCode.BadRequest, forged.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me")).StatusCode);
    }

    [Fact]
    public async Task LockingSomeone_EndsTheirBrowserSessionsAtOnce()
    {
        var admin = new Actor("admin@demo.local", [Roles.Admin]);
        var directory = portal.Services.GetRequiredService<UserDirectory>();
        var email = $"locked-{Guid.NewGuid():N}"[..15] + "@demo.local";
        Assert.True((await directory.CreateAsync(admin, new NewUser { Email = email, Password = PortalFactory.DemoPassword, Roles = [Roles.Viewer] })).IsEmpty);
        var browser = await CookieBrowser.SignInAsync(portal, email);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/api/v1/me")).StatusCode);

        await directory.SetLockedAsync(admin, email, locked: true);

        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetAsync("/api/v1/me")).StatusCode);
    }
}
