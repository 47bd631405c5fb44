using System.Net;
using System.Text;
using System.Text.Json;
using Portal.Infrastructure.Audit;
using Portal.Infrastructure.Identity;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class AppServiceAuthenticationTests : IDisposable
{
    private readonly PortalFactory _portal = new PortalFactory()
        .With("Auth:AppServiceAuthentication:Enabled", "true")
        .With("Auth:AppServiceAuthentication:TrustedProxies:0", "10.0.0.0/8")
        .With("Auth:AppServiceAuthentication:RoleMap:MLOps.Reviewer", "RiskReviewer")
        .With("Auth:AppServiceAuthentication:RoleMap:MLOps.Scientist", "DataScientist");

    [Fact]
    public async Task FromThePlatformFrontEnd_SignsInWithMappedRoles_AndRecordsThePerson()
    {
        var response = await Send("kim@contoso.com", ["MLOps.Reviewer", "SomethingElse"], from: "10.20.30.40");

        var me = await response.JsonAsync();
        Assert.Equal("kim@contoso.com", me.GetProperty("userName").GetString());
        Assert.Equal(["RiskReviewer"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("appservice", me.GetProperty("authenticationMethod").GetString());
        var person = Assert.Single((await _portal.Services.GetRequiredService<UserDirectory>().SearchAsync(new UserQuery(Search: "kim@"))).Users);
        Assert.Equal("appservice", person.Source);
        Assert.Equal(["RiskReviewer"], person.Roles);
    }

    [Fact]
    public async Task WithoutMappedRoles_GetsTheDefaultRole()
    {
        var me = await (await Send("lee@contoso.com", [], from: "127.0.0.1")).JsonAsync();

        Assert.Equal(["Viewer"], me.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task FromAnyOtherAddress_IsRefusedAsForged_AndAudited()
    {
        var response = await Send("admin@demo.local", ["Admin"], from: "203.0.113.9");

        Assert.Contains("only accepted from the platform", await response.AssertProblemAsync(HttpStatusCode.Unauthorized));
        var audit = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(ActionPrefix: "security.forged-principal-header"));
        var entry = Assert.Single(audit.Entries);
        Assert.Equal("user:admin@demo.local", entry.Entity);
        Assert.Contains("203.0.113.9", entry.After);
    }

    [Fact]
    public async Task GarbageHeader_FromTheFrontEnd_Is401()
    {
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL", "%%%");

        Assert.Contains("not a valid client principal", await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized));
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }

    private Task<HttpResponseMessage> Send(string name, string[] roles, string from)
    {
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL", Principal(name, roles));
        client.DefaultRequestHeaders.Add(PortalFactory.RemoteAddressHeader, from);
        return client.GetAsync("/api/v1/me");
    }

    internal static string Principal(string name, string[] roles)
    {
        var claims = new List<object> { new { typ = "preferred_username", val = name }, new { typ = "name", val = "Somebody" } };
        claims.AddRange(roles.Select(r => new { typ = "roles", val = r }));
        var json = JsonSerializer.Serialize(new { auth_typ = "aad", name_typ = "preferred_username", role_typ = "roles", claims });
        return Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
    }
}

public class AppServiceAuthenticationDisabledTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;

    public AppServiceAuthenticationDisabledTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task WhenNotEnabled_TheHeaderIsIgnored_EvenFromLoopback()
    {
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.Add("X-MS-CLIENT-PRINCIPAL", AppServiceAuthenticationTests.Principal("admin@demo.local", ["Admin"]));

        await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized);
    }
}
