namespace Portal.Domain.Common;

/// <summary>The actor is known but may not do this. Edges answer it with 403 Forbidden.</summary>
public sealed class NotPermittedException(string message) : DomainException(message);
