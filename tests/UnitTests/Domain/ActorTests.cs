using Portal.Domain.Common;
using Portal.Domain.Identity;

namespace Portal.UnitTests.Domain;

public class ActorTests
{
    [Theory]
    [InlineData("")]
    [InlineData("  ")]
    public void Actor_WithoutName_Throws(string name)
    {
        Assert.Throws<DomainException>(() => new Actor(name));
    }

    [Fact]
    public void Actor_KnowsItsRoles()
    {
        var actor = new Actor(" ada@demo.local ", [Roles.Admin]);

        Assert.Equal("ada@demo.local", actor.Name);
        Assert.True(actor.IsIn(Roles.Admin));
        Assert.False(actor.IsIn(Roles.Viewer));
    }

    [Fact]
    public void Clock_TruncatesToMicroseconds()
    {
        var value = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(1234567);

        Assert.Equal(1234560, Clock.Truncate(value).Ticks % TimeSpan.TicksPerSecond);
        Assert.Equal(DateTimeKind.Utc, Clock.Truncate(value).Kind);
    }
}
