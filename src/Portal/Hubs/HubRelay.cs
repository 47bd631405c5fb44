using Microsoft.AspNetCore.SignalR;
using Portal.Domain.Audit;
using Portal.Domain.Common;
using Portal.Domain.Ports;

namespace Portal.Hubs;

/// <summary>
/// Relays domain events from the in-process bus to <see cref="StatusHub"/> groups. Events are coalesced
/// over a short window and each group gets one message per window.
/// </summary>
public sealed class HubRelay(IEventBus bus, IHubContext<StatusHub> hub) : IHostedService
{
    internal static readonly TimeSpan Window = TimeSpan.FromMilliseconds(250);
    private IDisposable? _subscription;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _subscription = bus.Subscribe<IDomainEvent>(RelayAsync, coalesce: Window);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _subscription?.Dispose();
        return Task.CompletedTask;
    }

    private async Task RelayAsync(IReadOnlyList<IDomainEvent> batch)
    {
        var byGroup = new Dictionary<string, List<LiveEventMessage>>(StringComparer.Ordinal);
        foreach (var domainEvent in batch)
        {
            var message = new LiveEventMessage(domainEvent.GetType().Name, domainEvent.Subject, domainEvent.OccurredAt, domainEvent);
            var groups = LiveTopics.GroupsFor(domainEvent.Subject).ToList();
            if (domainEvent is AuditEntryRecorded { IsSecurityEvent: true })
            {
                groups.Add(LiveTopics.Security);
            }

            foreach (var group in groups)
            {
                if (!byGroup.TryGetValue(group, out var messages))
                {
                    byGroup[group] = messages = [];
                }

                messages.Add(message);
            }
        }

        foreach (var (group, messages) in byGroup)
        {
            await hub.Clients.Group(group).SendAsync(StatusHub.EventsMethod, messages);
        }
    }
}
