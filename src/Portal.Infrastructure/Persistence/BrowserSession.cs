namespace Portal.Infrastructure.Persistence;

/// <summary>
/// A signed-in browser, kept on the server: the cookie carries only <see cref="Key"/>, so signing out (or
/// an administrator locking the person) ends the session for every copy of the cookie at once.
/// </summary>
public sealed class BrowserSession
{
    public required string Key { get; set; }

    public required string UserName { get; set; }

    /// <summary>The serialized authentication ticket, protected with the portal's data-protection keys.</summary>
    public required byte[] Ticket { get; set; }

    public DateTime CreatedAt { get; set; }

    public DateTime ExpiresAt { get; set; }
}
