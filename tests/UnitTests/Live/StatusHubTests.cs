using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.SignalR;
using Portal.Domain.Common;
using Portal.Domain.Ports;
using Portal.UnitTests.Builders;

namespace Portal.UnitTests.Live;

public class StatusHubTests : IClassFixture<PortalFactory>
{
    private readonly PortalFactory _portal;

    public StatusHubTests(PortalFactory portal) => _portal = portal;

    [Fact]
    public async Task Anonymous_CannotConnect()
    {
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => StatusHubClient.ConnectAsync(_portal, null));

        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, refused.StatusCode);
    }

    [Fact]
    public async Task Admin_FollowingSecurity_SeesAFailedSignInLive()
    {
        await using var hub = await StatusHubClient.ConnectAsync(_portal, PortalFactory.Basic("admin@demo.local", PortalFactory.DemoPassword));
        Assert.Equal("security", await hub.SubscribeAsync("security"));

        await _portal.ClientFor("intruder@demo.local", "guess").GetAsync("/api/v1/me");

        static bool IsTheFailure(JsonElement e) => e.GetProperty("type").GetString() == "AuditEntryRecorded"
            && e.GetProperty("subject").GetString() == "user:intruder@demo.local"
            && e.GetProperty("data").GetProperty("action").GetString() == "security.sign-in-failed";
        var batches = await hub.CollectAsync(got => got.SelectMany(b => b.EnumerateArray()).Any(IsTheFailure));
        Assert.Contains(batches.SelectMany(b => b.EnumerateArray()), IsTheFailure);
    }

    [Theory]
    [InlineData("viewer@demo.local", "security", "Only administrators")]
    [InlineData("scientist@demo.local", "user:admin@demo.local", "only your own")]
    [InlineData("ops@demo.local", "job:job-42", "requires one of the roles")]
    [InlineData("scientist@demo.local", "../../etc/passwd", "is not a topic")]
    [InlineData("scientist@demo.local", "nonsense:1", "There are no 'nonsense' topics")]
    public async Task Subscribing_BeyondYourRoles_IsRefusedWithAReason(string user, string topic, string reason)
    {
        await using var hub = await StatusHubClient.ConnectAsync(_portal, PortalFactory.Basic(user, PortalFactory.DemoPassword));

        var refused = await Assert.ThrowsAsync<HubException>(() => hub.SubscribeAsync(topic));

        Assert.Contains(reason, refused.Message);
    }

    [Fact]
    public async Task AccessTokenInTheQuery_AuthenticatesWebSocketClients()
    {
        var created = await (await _portal.ClientFor("scientist@demo.local").PostAsJsonAsync("/api/v1/tokens", new { name = "dashboard" })).JsonAsync(System.Net.HttpStatusCode.Created);

        await using var hub = await StatusHubClient.ConnectAsync(_portal, null, created.GetProperty("token").GetString());

        Assert.Equal("user:scientist@demo.local", await hub.SubscribeAsync("user:scientist@demo.local"));
    }

    [Fact]
    public async Task ABurstOfEvents_ArrivesCoalescedIntoFewMessages_InOrder()
    {
        await using var hub = await StatusHubClient.ConnectAsync(_portal, PortalFactory.Basic("scientist@demo.local", PortalFactory.DemoPassword));
        await hub.SubscribeAsync("experiment:42");
        var bus = _portal.Services.GetRequiredService<IEventBus>();

        for (var i = 0; i < 200; i++)
        {
            bus.Publish(new MetricLogged("run:7", i));
        }

        var batches = await hub.CollectAsync(got => got.Sum(b => b.GetArrayLength()) >= 200);
        // 200 events in a burst reach the client as a handful of messages, not 200 (250 ms windows).
        Assert.InRange(batches.Count, 1, 10);
        var steps = batches.SelectMany(b => b.EnumerateArray()).Select(e => e.GetProperty("data").GetProperty("step").GetInt32()).ToList();
        Assert.Equal(Enumerable.Range(0, 200), steps);
    }

    /// <summary>A stand-in for a bursty event that later capabilities raise (metrics during training).</summary>
    private sealed record MetricLogged(string Run, int Step) : IDomainEvent
    {
        public DateTime OccurredAt { get; } = DateTime.UtcNow;

        public string Subject => "experiment:42:" + Run;
    }
}
