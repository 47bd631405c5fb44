using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Portal.Infrastructure.Audit;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Api;

public class TokensApiTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;

    public TokensApiTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task CreatedToken_AuthenticatesAsItsOwner_AndIsListedWithoutTheSecret()
    {
        var (id, token) = await CreateAsync("scientist@demo.local", "ci", 7);

        var me = await (await Bearer(token).GetAsync("/api/v1/me")).JsonAsync();
        Assert.Equal("scientist@demo.local", me.GetProperty("userName").GetString());
        Assert.Equal("token", me.GetProperty("authenticationMethod").GetString());

        var listed = await (await _portal.ClientFor("scientist@demo.local").GetAsync("/api/v1/tokens")).JsonAsync();
        var entry = listed.EnumerateArray().Single(t => t.GetProperty("id").GetGuid() == id);
        Assert.Equal("Active", entry.GetProperty("status").GetString());
        Assert.DoesNotContain(token, listed.GetRawText());
        Assert.NotNull(entry.GetProperty("lastUsedAt").GetString());
    }

    [Fact]
    public async Task Create_WithoutBody_UsesDefaults_ButNeedsAName()
    {
        var response = await _portal.ClientFor("scientist@demo.local").PostAsJsonAsync("/api/v1/tokens", new { });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty("name", out _));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(366)]
    [InlineData(-5)]
    public async Task Create_WithLifetimeOutOfRange_Is400NamingTheField(int days)
    {
        var response = await _portal.ClientFor("scientist@demo.local").PostAsJsonAsync("/api/v1/tokens", new { name = "x", expiresInDays = days });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("1 to 365 days", problem.GetProperty("errors").GetProperty("expiresInDays")[0].GetString());
    }

    [Fact]
    public async Task Create_WithNameTooLong_Is400()
    {
        var response = await _portal.ClientFor("scientist@demo.local").PostAsJsonAsync("/api/v1/tokens", new { name = new string('n', 101) });

        var problem = await response.JsonAsync(HttpStatusCode.BadRequest);
        Assert.Contains("at most 100", problem.GetProperty("errors").GetProperty("name")[0].GetString());
    }

    [Fact]
    public async Task Create_WithBrokenJson_Is400SayingSo_AndCreatesNothing()
    {
        var client = _portal.ClientFor("viewer@demo.local");
        var before = (await (await client.GetAsync("/api/v1/tokens")).JsonAsync()).GetArrayLength();

        var response = await client.PostAsync("/api/v1/tokens", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));

        Assert.Contains("not valid JSON", await response.AssertProblemAsync(HttpStatusCode.BadRequest));
        Assert.Equal(before, (await (await client.GetAsync("/api/v1/tokens")).JsonAsync()).GetArrayLength());
    }

    [Fact]
    public async Task ATokenCannotMintTokens()
    {
        var (_, token) = await CreateAsync("scientist@demo.local", "mint-test", 7);

        var response = await Bearer(token).PostAsJsonAsync("/api/v1/tokens", new { name = "child" });

        Assert.Contains("cannot create tokens", await response.AssertProblemAsync(HttpStatusCode.Forbidden));
    }

    [Fact]
    public async Task RevokedToken_Is401_AndRevokingAgainIs409()
    {
        var (id, token) = await CreateAsync("scientist@demo.local", "revoke-me", 7);
        var owner = _portal.ClientFor("scientist@demo.local");

        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/v1/tokens/{id}")).StatusCode);

        Assert.Contains("was revoked", await (await Bearer(token).GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized));
        Assert.Contains("already revoked", await (await owner.DeleteAsync($"/api/v1/tokens/{id}")).AssertProblemAsync(HttpStatusCode.Conflict));
        var audit = await _portal.Services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(ActionPrefix: "security.token-rejected"));
        Assert.Contains(audit.Entries, e => e.Entity.EndsWith(id.ToString(), StringComparison.Ordinal) && e.Reason == "revoked");
    }

    [Fact]
    public async Task SomeoneElsesToken_Is404ForThem()
    {
        var (id, _) = await CreateAsync("scientist@demo.local", "private", 7);

        var response = await _portal.ClientFor("viewer@demo.local").DeleteAsync($"/api/v1/tokens/{id}");

        await response.AssertProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UnknownToken_Is401_AndAudited()
    {
        var response = await Bearer("mlp_this-token-was-never-issued").GetAsync("/api/v1/me");

        Assert.Contains("not recognised", await response.AssertProblemAsync(HttpStatusCode.Unauthorized));
    }

    private async Task<(Guid Id, string Token)> CreateAsync(string user, string name, int days)
    {
        var created = await (await _portal.ClientFor(user).PostAsJsonAsync("/api/v1/tokens", new { name, expiresInDays = days })).JsonAsync(HttpStatusCode.Created);
        return (created.GetProperty("id").GetGuid(), created.GetProperty("token").GetString()!);
    }

    private HttpClient Bearer(string token)
    {
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}

/// <summary>Expiry moves the portal's clock, so it gets its own portal.</summary>
public class TokenExpiryTests : IDisposable
{
    private readonly PortalFactory _portal = new();

    [Fact]
    public async Task ExpiredToken_Is401NamingTheExpiry()
    {
        var created = await (await _portal.ClientFor("ops@demo.local").PostAsJsonAsync("/api/v1/tokens", new { name = "short", expiresInDays = 1 })).JsonAsync(HttpStatusCode.Created);
        var client = _portal.AnonymousClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", created.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/v1/me")).StatusCode);

        _portal.Time.Advance(TimeSpan.FromDays(1).Add(TimeSpan.FromSeconds(1)));

        Assert.Contains("expired on", await (await client.GetAsync("/api/v1/me")).AssertProblemAsync(HttpStatusCode.Unauthorized));
    }

    public void Dispose()
    {
        _portal.Dispose();
        GC.SuppressFinalize(this);
    }
}
