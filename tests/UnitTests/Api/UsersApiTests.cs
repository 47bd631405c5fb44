using System.Net;
using System.Net.Http.Json;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

/// <summary>Provisioning people by script: the Admin page's rules, administrators only, every change audited.</summary>
public class UsersApiTests(PortalFactory portal) : IClassFixture<PortalFactory>
{
    private readonly HttpClient _admin = portal.ClientFor("admin@demo.local");

    [Fact]
    public async Task AnAdmin_CreatesAPerson_ChangesTheirRoles_AndLocksThem_EachStepAudited()
    {
        var email = $"new-{Guid.NewGuid():N}"[..12] + "@example.com";

        var created = await (await _admin.PostAsJsonAsync("/api/v1/users", new { email, password = PortalFactory.DemoPassword, roles = new[] { "Viewer" }, displayName = "New Person", team = "credit" }))
            .JsonAsync(HttpStatusCode.Created);
        Assert.Equal(email, created.GetProperty("userName").GetString());
        Assert.Equal("credit", created.GetProperty("team").GetString());
        Assert.Equal(HttpStatusCode.OK, (await portal.ClientFor(email).GetAsync("/api/v1/me")).StatusCode);

        var changed = await (await _admin.PatchAsJsonAsync($"/api/v1/users/{email}", new { roles = new[] { "DataScientist", "Viewer" } })).JsonAsync();
        Assert.Equal(["DataScientist", "Viewer"], changed.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        var locked = await (await _admin.PatchAsJsonAsync($"/api/v1/users/{email}", new { locked = true })).JsonAsync();
        Assert.True(locked.GetProperty("locked").GetBoolean());
        Assert.Equal(HttpStatusCode.Unauthorized, (await portal.ClientFor(email).GetAsync("/api/v1/me")).StatusCode);

        var listed = await _admin.GetAsync($"/api/v1/users?search={email}");
        Assert.Equal("1", listed.Headers.GetValues("X-Total-Count").Single());
        var actions = (await (await _admin.GetAsync($"/api/v1/audit?entity=user:{email}")).JsonAsync()).EnumerateArray().Select(e => e.GetProperty("action").GetString()).ToList();
        Assert.Contains("user.created", actions);
        Assert.Contains("user.roles-changed", actions);
        Assert.Contains("user.locked", actions);
    }

    [Fact]
    public async Task BadInput_IsNamedByField_AndTheLastAdministratorIsKept()
    {
        var problem = await (await _admin.PostAsJsonAsync("/api/v1/users", new { email = "not-an-email\n", password = "short", roles = new[] { "Wizard" } }))
            .JsonAsync(HttpStatusCode.BadRequest);
        var fields = problem.GetProperty("errors").EnumerateObject().Select(e => e.Name).ToList();
        Assert.Contains("email", fields);
        Assert.Contains("roles", fields);

        var last = await (await _admin.PatchAsJsonAsync("/api/v1/users/admin@demo.local", new { roles = new[] { "Viewer" } })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("last administrator", last.GetProperty("errors").GetProperty("roles")[0].GetString());
        var self = await (await _admin.PatchAsJsonAsync("/api/v1/users/admin@demo.local", new { roles = new[] { "Admin", "Viewer" }, locked = true })).JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("locked", self.GetProperty("errors").EnumerateObject().Select(e => e.Name));
        Assert.Equal(["Admin"], (await (await _admin.GetAsync("/api/v1/users/admin@demo.local")).JsonAsync()).GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(HttpStatusCode.NotFound, (await _admin.PatchAsJsonAsync("/api/v1/users/nobody@example.com", new { locked = true })).StatusCode);
    }

    [Theory]
    [InlineData("scientist@demo.local")]
    [InlineData("viewer@demo.local")]
    [InlineData("ops@demo.local")]
    public async Task NonAdministrators_AreRefused(string user)
    {
        var client = portal.ClientFor(user);

        Assert.Equal(HttpStatusCode.Forbidden, (await client.GetAsync("/api/v1/users")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PostAsJsonAsync("/api/v1/users", new { email = "x@example.com", password = PortalFactory.DemoPassword, roles = new[] { "Admin" } })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await client.PatchAsJsonAsync($"/api/v1/users/{user}", new { roles = new[] { "Admin" } })).StatusCode);
    }
}
