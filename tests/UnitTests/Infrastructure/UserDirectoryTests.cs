using Microsoft.AspNetCore.Identity;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Audit;
using Portal.Infrastructure.Identity;
using Portal.Infrastructure.Persistence;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Infrastructure;

public class UserDirectoryTests : IAsyncLifetime
{
    private readonly TempFolder _data = new();
    private readonly Actor _admin = new("admin@demo.local", [Roles.Admin]);
    private ServiceProvider _services = default!;

    private UserDirectory Directory => _services.GetRequiredService<UserDirectory>();

    public async Task InitializeAsync() => _services = await new InfrastructureBuilder(_data.Path).StartAsync();

    [Fact]
    public async Task Search_PagesSortsAndFiltersOnTheServer()
    {
        var page = await Directory.SearchAsync(new UserQuery(SortBy: UserSort.UserName, Descending: true, Skip: 0, Take: 2));
        Assert.Equal(6, page.Total);
        Assert.Equal(["viewer@demo.local", "scientist@demo.local"], page.Users.Select(u => u.UserName));

        var reviewers = await Directory.SearchAsync(new UserQuery(Role: Roles.RiskReviewer));
        Assert.Equal(2, reviewers.Total);
        Assert.All(reviewers.Users, u => Assert.Equal([Roles.RiskReviewer], u.Roles));

        var byName = await Directory.SearchAsync(new UserQuery(Search: "riley"));
        Assert.Equal("reviewer@demo.local", Assert.Single(byName.Users).UserName);
    }

    [Fact]
    public async Task Create_WithBadInput_NamesEachField_AndWritesNothing()
    {
        var errors = await Directory.CreateAsync(_admin, new NewUser { Email = "not-an-email", Password = "weak", Roles = ["Wizard"] });

        Assert.NotEmpty(errors.For("Email"));
        Assert.Contains("'Wizard' is not a role", errors.For("Roles").Single());
        Assert.Equal(6, (await Directory.SearchAsync(new UserQuery())).Total);
    }

    [Fact]
    public async Task Create_WithWeakPassword_ReportsPasswordRules_AndWritesNothing()
    {
        var errors = await Directory.CreateAsync(_admin, new NewUser { Email = "new@demo.local", Password = "password", Roles = [Roles.Viewer] });

        Assert.NotEmpty(errors.For("Password"));
        Assert.Equal(0, (await Directory.SearchAsync(new UserQuery(Search: "new@"))).Total);
    }

    [Fact]
    public async Task Create_ThenSignInWithThePassword_AndTheCreationIsAudited()
    {
        var errors = await Directory.CreateAsync(_admin, new NewUser
        {
            Email = "new@demo.local", DisplayName = "New Person", Password = "A-Good-Passw0rd", Roles = [Roles.DataScientist, Roles.Viewer],
        });

        Assert.True(errors.IsEmpty, errors.ToString());
        var created = Assert.Single((await Directory.SearchAsync(new UserQuery(Search: "new@"))).Users);
        Assert.Equal([Roles.DataScientist, Roles.Viewer], created.Roles);
        var audit = await _services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(Entity: "user:new@demo.local"));
        Assert.Equal("admin@demo.local", Assert.Single(audit.Entries).Actor);
    }

    [Fact]
    public async Task NonAdmin_CannotCreateOrChangeRoles()
    {
        var scientist = new Actor("scientist@demo.local", [Roles.DataScientist]);

        await Assert.ThrowsAsync<NotPermittedException>(() => Directory.CreateAsync(scientist, new NewUser()));
        await Assert.ThrowsAsync<NotPermittedException>(() => Directory.SetRolesAsync(scientist, "scientist@demo.local", [Roles.Admin]));
    }

    [Fact]
    public async Task SetRoles_ChangesRoles_SignsSessionsOut_AndAuditsBeforeAndAfter()
    {
        var stampBefore = await StampOfAsync("viewer@demo.local");

        var errors = await Directory.SetRolesAsync(_admin, "viewer@demo.local", [Roles.Ops]);

        Assert.True(errors.IsEmpty, errors.ToString());
        Assert.Equal([Roles.Ops], await Directory.RolesOfAsync("viewer@demo.local"));
        Assert.NotEqual(stampBefore, await StampOfAsync("viewer@demo.local"));
        var entry = Assert.Single((await _services.GetRequiredService<AuditTrail>().SearchAsync(new AuditQuery(Entity: "user:viewer@demo.local", ActionPrefix: "user.roles"))).Entries);
        Assert.Equal("Viewer", entry.Before);
        Assert.Equal("Ops", entry.After);
    }

    [Fact]
    public async Task SetRoles_RemovingTheLastAdmin_IsRefused()
    {
        var errors = await Directory.SetRolesAsync(_admin, "admin@demo.local", [Roles.Viewer]);

        Assert.Contains("last administrator", errors.For("Roles").Single());
        Assert.Equal([Roles.Admin], await Directory.RolesOfAsync("admin@demo.local"));
    }

    [Fact]
    public async Task Lock_BlocksSignIn_UntilUnlocked_AndAdminsCannotLockThemselves()
    {
        await Directory.SetLockedAsync(_admin, "ops@demo.local", locked: true);
        Assert.NotNull((await Directory.SearchAsync(new UserQuery(Search: "ops@"))).Users.Single().LockedUntil);

        await Directory.SetLockedAsync(_admin, "ops@demo.local", locked: false);
        Assert.Null((await Directory.SearchAsync(new UserQuery(Search: "ops@"))).Users.Single().LockedUntil);

        await Assert.ThrowsAsync<DomainException>(() => Directory.SetLockedAsync(_admin, "admin@demo.local", locked: true));
    }

    [Fact]
    public async Task DisplayName_IsExact_AndCountsSeeLocks()
    {
        Assert.Equal("Riley Reviewer", await Directory.DisplayNameOfAsync("reviewer@demo.local"));
        Assert.Equal("ghost@demo.local", await Directory.DisplayNameOfAsync("ghost@demo.local"));

        await Directory.SetLockedAsync(_admin, "viewer@demo.local", locked: true);

        Assert.Equal((6, 1), await Directory.CountAsync());
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        _data.Dispose();
    }

    private async Task<string?> StampOfAsync(string userName)
    {
        await using var scope = _services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<PortalUser>>();
        return await users.GetSecurityStampAsync((await users.FindByNameAsync(userName))!);
    }
}
