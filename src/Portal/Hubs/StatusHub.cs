using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;

namespace Portal.Hubs;

/// <summary>
/// Live status for clients outside the portal's own pages (dashboards, CI, notebooks). Connect to
/// <c>/hubs/status</c> with a cookie, Basic credentials or a personal access token, call
/// <c>Subscribe(topic)</c>, and receive <c>events</c> messages: arrays of <see cref="LiveEventMessage"/>,
/// coalesced so bursts arrive a few times a second at most.
/// </summary>
[Authorize]
public sealed class StatusHub : Hub
{
    public const string Path = "/hubs/status";
    public const string EventsMethod = "events";

    /// <summary>Starts delivering events about <paramref name="topic"/> to this connection.</summary>
    public async Task<string> Subscribe(string topic)
    {
        if (LiveTopics.WhyNot(Context.User!, topic) is { } problem)
        {
            throw new HubException(problem);
        }

        await Groups.AddToGroupAsync(Context.ConnectionId, topic);
        return topic;
    }

    /// <summary>Stops delivering events about <paramref name="topic"/> to this connection.</summary>
    public async Task Unsubscribe(string topic)
    {
        if (string.IsNullOrEmpty(topic))
        {
            throw new HubException("Name the topic to unsubscribe from.");
        }

        await Groups.RemoveFromGroupAsync(Context.ConnectionId, topic);
    }
}

/// <summary>One event as external clients receive it.</summary>
public sealed record LiveEventMessage(string Type, string Subject, DateTime OccurredAt, object Data);
