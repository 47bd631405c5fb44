using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Domain;

public class AccessTokenTests
{
    private readonly FixedTime _time = new();
    private readonly Actor _owner = new("sam@demo.local", [Roles.DataScientist]);

    [Fact]
    public void Issue_KeepsOnlyAHashOfTheSecret()
    {
        var (token, secret) = AccessToken.Issue(_owner, "ci", 30, _time);

        Assert.StartsWith("mlp_", secret);
        Assert.True(secret.Length > 40);
        Assert.DoesNotContain(secret, token.SecretHash);
        Assert.Equal(AccessToken.HashSecret(secret), token.SecretHash);
        Assert.StartsWith(token.DisplayPrefix, secret);
        Assert.Equal(_time.GetUtcNow().UtcDateTime.AddDays(30), token.ExpiresAt);
    }

    [Fact]
    public void Issue_TwiceGivesDifferentSecrets()
    {
        var (_, first) = AccessToken.Issue(_owner, "a", 1, _time);
        var (_, second) = AccessToken.Issue(_owner, "a", 1, _time);

        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData("", 30)]
    [InlineData("   ", 30)]
    [InlineData("ok", 0)]
    [InlineData("ok", 366)]
    public void Issue_WithBadNameOrLifetime_Throws(string name, int days)
    {
        Assert.Throws<DomainException>(() => AccessToken.Issue(_owner, name, days, _time));
    }

    [Fact]
    public void Issue_WithNameOverMaxLength_Throws()
    {
        var ex = Assert.Throws<DomainException>(() => AccessToken.Issue(_owner, new string('x', AccessToken.MaxNameLength + 1), 1, _time));
        Assert.Contains("name", ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Status_IsActiveUntilExpiryThenExpired()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 1, _time);

        Assert.Equal(AccessTokenStatus.Active, token.StatusAt(_time.GetUtcNow().UtcDateTime.AddHours(23)));
        Assert.Equal(AccessTokenStatus.Expired, token.StatusAt(_time.GetUtcNow().UtcDateTime.AddDays(1)));
    }

    [Fact]
    public void Revoke_ByOwner_MakesItRevoked()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 30, _time);

        token.Revoke(_owner, _time);

        Assert.Equal(AccessTokenStatus.Revoked, token.StatusAt(_time.GetUtcNow().UtcDateTime));
        Assert.Equal(_owner.Name, token.RevokedBy);
    }

    [Fact]
    public void Revoke_ByAdmin_IsAllowed()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 30, _time);

        token.Revoke(new Actor("ada@demo.local", [Roles.Admin]), _time);

        Assert.NotNull(token.RevokedAt);
    }

    [Fact]
    public void Revoke_BySomeoneElse_Throws()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 30, _time);

        Assert.Throws<DomainException>(() => token.Revoke(new Actor("eve@demo.local", [Roles.DataScientist]), _time));
        Assert.Null(token.RevokedAt);
    }

    [Fact]
    public void Revoke_Twice_ThrowsAndKeepsFirstRevocation()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 30, _time);
        token.Revoke(_owner, _time);
        var first = token.RevokedAt;
        _time.Advance(TimeSpan.FromHours(1));

        var ex = Assert.Throws<DomainException>(() => token.Revoke(_owner, _time));

        Assert.Contains("already revoked", ex.Message);
        Assert.Equal(first, token.RevokedAt);
    }

    [Fact]
    public void MarkUsed_WritesAtMostOncePerMinute()
    {
        var (token, _) = AccessToken.Issue(_owner, "ci", 30, _time);
        var now = _time.GetUtcNow().UtcDateTime;

        Assert.True(token.MarkUsed(now));
        Assert.False(token.MarkUsed(now.AddSeconds(30)));
        Assert.True(token.MarkUsed(now.AddSeconds(61)));
    }
}
