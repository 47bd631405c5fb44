using Bunit;
using Microsoft.AspNetCore.Components;
using MudBlazor.Services;
using Portal.Domain.Identity;
using Portal.Domain.Ports;
using Portal.Features.Datasets;
using Portal.Features.Notifications;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Components;

/// <summary>
/// Real pages rendered with bunit on the real portal's services (database, bus): a server-paged grid that
/// is searched by typing, and the bell receiving a live event and opening on a click.
/// </summary>
public sealed class LivePageTests(LivePageTests.Portal portal) : IClassFixture<LivePageTests.Portal>, IAsyncLifetime
{
    private readonly BunitContext _bunit = new();

    public sealed class Portal : PortalFactory;

    public async Task InitializeAsync()
    {
        await portal.WaitForDemoDataAsync();
        _bunit.Services.AddMudServices();
        _bunit.Services.AddFallbackServiceProvider(portal.Services);
        _bunit.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    public async Task DisposeAsync() => await _bunit.DisposeAsync();

    [Fact]
    public async Task DatasetsGrid_ShowsTheServersPage_AndTypingSearchesOnTheServer()
    {
        SignIn("scientist@demo.local", Roles.DataScientist);

        var page = _bunit.Render<DatasetsPage>();

        page.WaitForAssertion(() => Assert.Contains(page.FindAll("tbody tr"), r => r.TextContent.Contains("credit-risk", StringComparison.Ordinal)), TimeSpan.FromSeconds(10));
        var search = page.Find("input#DatasetSearch");
        await search.InputAsync(new ChangeEventArgs { Value = "no-such-dataset" });
        page.WaitForAssertion(() => Assert.Contains("No datasets yet.", page.Markup), TimeSpan.FromSeconds(10));
        Assert.DoesNotContain(page.FindAll("tbody tr"), r => r.TextContent.Contains("credit-risk", StringComparison.Ordinal));
    }

    [Fact]
    public void Bell_CountsALiveEventFromTheBus_AndAClickShowsIt()
    {
        SignIn("admin@demo.local", Roles.Admin);
        var bell = _bunit.Render<NotificationCenter>();
        var bus = portal.Services.GetRequiredService<IEventBus>();

        // Subscribed after the first render; publish until the subscription has seen one.
        bell.WaitForAssertion(() =>
        {
            bus.Publish(new UserSignedIn("someone@demo.local", "password", DateTime.UtcNow));
            Assert.NotEqual("Notifications, 0 unread", bell.Find("button.portal-bell").GetAttribute("aria-label"));
        }, TimeSpan.FromSeconds(10));

        bell.Find("button.portal-bell").Click();

        var panel = bell.WaitForElement(".portal-notification-panel", TimeSpan.FromSeconds(5));
        Assert.Contains("someone@demo.local signed in", panel.TextContent);
        Assert.Equal("Notifications, 0 unread", bell.Find("button.portal-bell").GetAttribute("aria-label"));
    }

    private void SignIn(string name, string role)
    {
        var auth = _bunit.AddAuthorization();
        auth.SetAuthorized(name);
        auth.SetRoles(role);
    }
}
