using System.Net;
using System.Net.Http.Json;
using Portal.Infrastructure.Audit;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class AuthenticationTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;

    public AuthenticationTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task NoCredentials_Is401ProblemWithHowToAuthenticate()
    {
        var response = await _portal.AnonymousClient().GetAsync("/api/v1/me");

        var detail = await response.AssertProblemAsync(HttpStatusCode.Unauthorized);
        Assert.Contains("Basic", detail);
        Assert.Contains("Bearer", detail);
        Assert.Contains("Basic", response.Headers.WwwAuthenticate.ToString());
    }

    [Fact]
    public async Task BasicCredentials_OfADemoUser_Authenticate()
    {
        var me = await (await _portal.ClientFor("reviewer@demo.local").GetAsync("/api/v1/me")).JsonAsync();

        Assert.Equal("reviewer@demo.local", me.GetProperty("userName").GetString());
        Assert.Equal("RiskReviewer", me.GetProperty("roles")[0].GetString());
        Assert.Equal("password", me.GetProperty("authenticationMethod").GetString());
    }

    [Theory]
    [InlineData("reviewer2@demo.local", "wrong-password", "wrong password")]
    [InlineData("nobody@demo.local", "whatever", "unknown user")]
    public async Task BadCredentials_AreRefusedAlike_AndAudited(string user, string password, string auditedReason)
    {
        var response = await _portal.ClientFor(user, password).GetAsync("/api/v1/me");

        Assert.Equal("Invalid user name or password.", await response.AssertProblemAsync(HttpStatusCode.Unauthorized));
        var audit = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(Entity: $"user:{user}", ActionPrefix: "security.sign-in-failed"));
        Assert.Contains(audit.Entries, e => e.Reason!.Contains(auditedReason, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Basic !!!not-base64")]
    [InlineData("Basic bm9jb2xvbg==")]
    public async Task MalformedBasicHeader_SaysWhatIsWrong(string header)
    {
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", header);

        var detail = await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);

        Assert.Contains("not valid Basic credentials", detail);
    }

    [Fact]
    public async Task WrongRole_Is403NamingTheRequiredRoles_AndIsAudited()
    {
        var response = await _portal.ClientFor("scientist@demo.local").GetAsync("/api/v1/audit");

        var detail = await response.AssertProblemAsync(HttpStatusCode.Forbidden);
        Assert.Contains("requires one of the roles Admin, RiskReviewer", detail);
        var audit = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(Actor: "scientist@demo.local", ActionPrefix: "security.access-denied"));
        Assert.Contains(audit.Entries, e => e.Entity == "route:GET /api/v1/audit");
    }

    [Fact]
    public async Task AnonymousPage_RedirectsToSignIn_WithTheWayBack()
    {
        var response = await _portal.AnonymousClient().GetAsync("/admin");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/account/login", response.Headers.Location!.AbsolutePath);
        Assert.Contains("ReturnUrl=%2Fadmin", response.Headers.Location.Query);
    }

    [Fact]
    public async Task ForbiddenPage_ForAScriptAsViewer_Is403WithAnAccessDeniedPage()
    {
        var response = await _portal.ClientFor("viewer@demo.local").GetAsync("/admin");

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("Access denied", html);
        Assert.DoesNotContain("People &amp; roles", html);
    }

    [Theory]
    [InlineData("/datasets/register", "requires one of the roles Admin, DataScientist")]
    [InlineData("/datasets/credit-risk/contract", "requires one of the roles Admin, DataScientist")]
    [InlineData("/admin", "requires the role Admin")]
    [InlineData("/reviews", "requires one of the roles Admin, RiskReviewer")]
    public async Task AnAccessDeniedPage_NamesTheRolesThePageItselfNeeds(string path, string requirement)
    {
        var response = await _portal.ClientFor("viewer@demo.local").GetAsync(path);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        var html = WebUtility.HtmlDecode(await response.Content.ReadAsStringAsync());
        Assert.Contains(requirement, html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnknownPage_Is404WithANotFoundPage()
    {
        var response = await _portal.ClientFor("viewer@demo.local").GetAsync("/no/such/page");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Contains("Nothing here", await response.Content.ReadAsStringAsync());
    }
}

/// <summary>Lock-out gets its own portal (it changes an account), with limits from Auth:Lockout.</summary>
public class LockoutTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory()
        .With("Auth:Lockout:MaxFailedAttempts", "3")
        .With("Auth:Lockout:Minutes", "0.03");

    [Fact]
    public async Task ConfiguredWrongPasswords_LockTheAccount_EvenForTheRightPassword()
    {
        Assert.Equal(HttpStatusCode.OK, (await _portal.ClientFor("ops@demo.local").GetAsync("/api/v1/me")).StatusCode);
        for (var i = 0; i < 3; i++)
        {
            await _portal.ClientFor("ops@demo.local", $"wrong-{i}").GetAsync("/api/v1/me");
        }

        var response = await _portal.ClientFor("ops@demo.local").GetAsync("/api/v1/me");

        Assert.Contains("locked", await response.AssertProblemAsync(HttpStatusCode.Unauthorized));
        var audit = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(Entity: "user:ops@demo.local", ActionPrefix: "security.locked-out"));
        Assert.NotEmpty(audit.Entries);
    }

    [Fact]
    public async Task LockOut_EndsAfterTheConfiguredTime()
    {
        for (var i = 0; i < 3; i++)
        {
            await _portal.ClientFor("viewer@demo.local", $"wrong-{i}").GetAsync("/api/v1/me");
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await _portal.ClientFor("viewer@demo.local").GetAsync("/api/v1/me")).StatusCode);

        // Identity reads the wall clock for lock-outs, so this waits out the (deliberately short) configured time.
        await Task.Delay(TimeSpan.FromMinutes(0.03) + TimeSpan.FromMilliseconds(500));
        Assert.Equal(HttpStatusCode.OK, (await _portal.ClientFor("viewer@demo.local").GetAsync("/api/v1/me")).StatusCode);
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }
}

/// <summary>Anonymous calls are audited, throttled per address; each test needs a clean slate.</summary>
public class UnauthenticatedCallAuditTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    [Fact]
    public async Task AnonymousApiAndHubCalls_AreAudited_OncePerAddressPerWindow()
    {
        var first = _portal.AnonymousClient();
        await first.GetAsync("/api/v1/tokens");
        await first.GetAsync("/api/v1/me");
        var other = _portal.AnonymousClient();
        other.DefaultRequestHeaders.Add(PortalFactory.RemoteAddressHeader, "198.51.100.7");
        await other.PostAsync("/hubs/status/negotiate?negotiateVersion=1", null);

        var entries = (await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(ActionPrefix: "security.unauthenticated-call"))).Entries;

        Assert.Equal(2, entries.Count);
        Assert.Contains(entries, e => e.Entity == "route:GET /api/v1/tokens" && e.After!.Contains("127.0.0.1", StringComparison.Ordinal));
        Assert.Contains(entries, e => e.Entity == "route:POST /hubs/status/negotiate" && e.After!.Contains("198.51.100.7", StringComparison.Ordinal));
    }

    [Fact]
    public async Task BadCredentials_AreAuditedByTheirHandler_NotAsAnonymous()
    {
        await _portal.ClientFor("viewer@demo.local", "wrong").GetAsync("/api/v1/me");

        var anonymous = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(ActionPrefix: "security.unauthenticated-call"));
        Assert.Empty(anonymous.Entries);
    }

    [Fact]
    public async Task AnonymousPageVisits_AreNotSecurityEvents()
    {
        await _portal.AnonymousClient().GetAsync("/admin");

        var anonymous = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(ActionPrefix: "security.unauthenticated-call"));
        Assert.Empty(anonymous.Entries);
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }
}
