using Portal.Domain.Common;

namespace Portal.Domain.Identity;

/// <summary>A person signed in to the portal in a browser (scripts authenticating per request do not count).</summary>
public sealed record UserSignedIn(string UserName, string Method, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"user:{UserName}";
}

/// <summary>An administrator changed what a person may do; their open sessions pick it up.</summary>
public sealed record UserRolesChanged(string UserName, IReadOnlyList<string> Roles, string ChangedBy, DateTime OccurredAt) : IDomainEvent
{
    public string Subject => $"user:{UserName}";
}
