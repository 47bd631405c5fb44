namespace Portal.Domain.Common;

/// <summary>
/// An operation broke a rule of the domain. The message is written for the person who tried it and is
/// shown to them as is.
/// </summary>
public class DomainException(string message) : Exception(message);
