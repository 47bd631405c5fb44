namespace Portal.Domain.Common;

/// <summary>Something that happened in the domain that others may react to (live views, relays, audit).</summary>
public interface IDomainEvent
{
    /// <summary>When it happened (UTC).</summary>
    DateTime OccurredAt { get; }

    /// <summary>
    /// What the event is about, as an artifact reference (<c>user:alice@x</c>, <c>model:credit-risk:3</c>,
    /// <c>system:demo</c>). Live subscribers and hub groups key on it.
    /// </summary>
    string Subject { get; }
}
