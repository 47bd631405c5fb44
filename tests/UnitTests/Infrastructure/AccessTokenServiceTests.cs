using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

public class AccessTokenServiceTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private readonly FixedTime _time = new();
    private readonly Actor _scientist = new("scientist@demo.local", [Roles.DataScientist]);
    private ServiceProvider _services = default!;

    private AccessTokenService Tokens => _services.GetRequiredService<AccessTokenService>();

    public async Task InitializeAsync() =>
        _services = await new InfrastructureBuilder(_data.Path).Services(s => s.AddSingleton<TimeProvider>(_time)).StartAsync();

    [Fact]
    public async Task IssuedSecret_ChecksOutForItsOwner()
    {
        var (_, secret) = await Tokens.IssueAsync(_scientist, "ci", 30);

        var check = await Tokens.CheckAsync(secret);

        Assert.Equal(TokenCheckResult.Valid, check.Result);
        Assert.Equal("scientist@demo.local", check.User!.UserName);
    }

    [Theory]
    [InlineData("")]
    [InlineData("mlp_not-a-real-token")]
    [InlineData("ghp_someoneelses")]
    public async Task UnknownSecret_IsUnknown(string secret)
    {
        Assert.Equal(TokenCheckResult.Unknown, (await Tokens.CheckAsync(secret)).Result);
    }

    [Fact]
    public async Task ExpiredToken_IsRefusedWithItsExpiryDate()
    {
        var (_, secret) = await Tokens.IssueAsync(_scientist, "short", 1);
        _time.Advance(TimeSpan.FromDays(1));

        var check = await Tokens.CheckAsync(secret);

        Assert.Equal(TokenCheckResult.Expired, check.Result);
        Assert.Contains("expired on", check.Problem);
    }

    [Fact]
    public async Task RevokedToken_IsRefused_AndCannotBeRevokedAgain()
    {
        var (token, secret) = await Tokens.IssueAsync(_scientist, "ci", 30);

        Assert.True(await Tokens.RevokeAsync(_scientist, token.Id));

        Assert.Equal(TokenCheckResult.Revoked, (await Tokens.CheckAsync(secret)).Result);
        await Assert.ThrowsAsync<DomainException>(() => Tokens.RevokeAsync(_scientist, token.Id));
    }

    [Fact]
    public async Task OtherPeoplesTokens_AreInvisibleToRevoke()
    {
        var (token, _) = await Tokens.IssueAsync(_scientist, "ci", 30);

        Assert.False(await Tokens.RevokeAsync(new Actor("viewer@demo.local", [Roles.Viewer]), token.Id));
        Assert.True(await Tokens.RevokeAsync(new Actor("admin@demo.local", [Roles.Admin]), token.Id));
    }

    [Fact]
    public async Task TokenOfALockedAccount_IsRefused()
    {
        var (_, secret) = await Tokens.IssueAsync(_scientist, "ci", 30);
        await _services.GetRequiredService<UserDirectory>().SetLockedAsync(new Actor("admin@demo.local", [Roles.Admin]), _scientist.Name, locked: true);

        Assert.Equal(TokenCheckResult.OwnerDisabled, (await Tokens.CheckAsync(secret)).Result);
    }

    [Fact]
    public async Task List_ShowsOnlyTheOwnersTokens_NewestFirst()
    {
        await Tokens.IssueAsync(_scientist, "older", 30);
        _time.Advance(TimeSpan.FromMinutes(1));
        await Tokens.IssueAsync(_scientist, "newer", 30);
        await Tokens.IssueAsync(new Actor("ops@demo.local", [Roles.Ops]), "ops", 30);

        var mine = await Tokens.ListAsync(_scientist.Name);

        Assert.Equal(["newer", "older"], mine.Select(t => t.Name));
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _data.Dispose();
    }
}
