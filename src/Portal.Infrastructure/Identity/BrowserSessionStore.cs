using System.Collections.Concurrent;
using System.Security.Claims;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Caching.Memory;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Identity;

/// <summary>
/// Browser sessions kept on the server (the cookie handler's session store). The cookie holds only a
/// random key; the ticket is in the database, so signing out removes it and a copied cookie no longer
/// works anywhere — the same as revoking a token. Lookups are cached briefly; a session ended here leaves
/// the cache at once.
/// </summary>
public sealed class BrowserSessionStore(IDbContextFactory<PortalDbContext> dbFactory, IDataProtectionProvider protection, IMemoryCache cache, TimeProvider time) : ITicketStore
{
    /// <summary>Claim carrying the session key, so a live circuit can check its session still exists.</summary>
    public const string SessionClaim = "portal:session";

    private static readonly TimeSpan CacheFor = TimeSpan.FromSeconds(30);
    private readonly IDataProtector _protector = protection.CreateProtector("Portal.BrowserSessions.v1");
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, byte>> _keysByUser = new(StringComparer.Ordinal);

    public async Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        var key = Base64Url(RandomNumberGenerator.GetBytes(32));
        ticket = WithKey(ticket, key);
        await using var db = await dbFactory.CreateDbContextAsync();
        db.BrowserSessions.Add(new BrowserSession
        {
            Key = key,
            UserName = UserOf(ticket),
            Ticket = Protect(ticket),
            CreatedAt = time.GetUtcNow().UtcDateTime,
            ExpiresAt = ExpiryOf(ticket),
        });
        await db.SaveChangesAsync();
        Remember(key, ticket);
        await RemoveExpiredAsync(db);
        return key;
    }

    public async Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        ArgumentNullException.ThrowIfNull(ticket);
        ticket = WithKey(ticket, key);
        await using var db = await dbFactory.CreateDbContextAsync();
        var session = await db.BrowserSessions.FirstOrDefaultAsync(s => s.Key == key);
        if (session is null)
        {
            // Ended meanwhile (signed out elsewhere): it stays ended.
            return;
        }

        session.Ticket = Protect(ticket);
        session.ExpiresAt = ExpiryOf(ticket);
        await db.SaveChangesAsync();
        Remember(key, ticket);
    }

    public async Task<AuthenticationTicket?> RetrieveAsync(string key)
    {
        if (cache.TryGetValue(CacheKey(key), out AuthenticationTicket? cached))
        {
            return cached;
        }

        await using var db = await dbFactory.CreateDbContextAsync();
        var now = time.GetUtcNow().UtcDateTime;
        var session = await db.BrowserSessions.AsNoTracking().FirstOrDefaultAsync(s => s.Key == key && s.ExpiresAt > now);
        if (session is null)
        {
            return null;
        }

        AuthenticationTicket? ticket;
        try
        {
            ticket = TicketSerializer.Default.Deserialize(_protector.Unprotect(session.Ticket));
        }
        catch (CryptographicException)
        {
            return null; // the key ring changed: the person signs in again
        }

        if (ticket is not null)
        {
            Remember(key, ticket);
        }

        return ticket;
    }

    public async Task RemoveAsync(string key)
    {
        Forget(key);
        await using var db = await dbFactory.CreateDbContextAsync();
        await db.BrowserSessions.Where(s => s.Key == key).ExecuteDeleteAsync();
    }

    /// <summary>Whether the session is still there (a circuit asks this while it lives).</summary>
    public async Task<bool> ExistsAsync(string key) => await RetrieveAsync(key) is not null;

    /// <summary>Ends every session of <paramref name="userName"/> (a lock-out); returns how many there were.</summary>
    public async Task<int> EndAllAsync(string userName, CancellationToken cancellationToken = default)
    {
        if (_keysByUser.TryRemove(userName, out var keys))
        {
            foreach (var key in keys.Keys)
            {
                cache.Remove(CacheKey(key));
            }
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.BrowserSessions.Where(s => s.UserName == userName).ExecuteDeleteAsync(cancellationToken);
    }

    private async Task RemoveExpiredAsync(PortalDbContext db)
    {
        var now = time.GetUtcNow().UtcDateTime;
        await db.BrowserSessions.Where(s => s.ExpiresAt <= now).ExecuteDeleteAsync();
    }

    private void Remember(string key, AuthenticationTicket ticket)
    {
        cache.Set(CacheKey(key), ticket, CacheFor);
        _keysByUser.GetOrAdd(UserOf(ticket), _ => new(StringComparer.Ordinal))[key] = 0;
    }

    private void Forget(string key)
    {
        cache.Remove(CacheKey(key));
        foreach (var keys in _keysByUser.Values)
        {
            keys.TryRemove(key, out _);
        }
    }

    private byte[] Protect(AuthenticationTicket ticket) => _protector.Protect(TicketSerializer.Default.Serialize(ticket));

    private DateTime ExpiryOf(AuthenticationTicket ticket) =>
        (ticket.Properties.ExpiresUtc ?? time.GetUtcNow().AddHours(12)).UtcDateTime;

    private static AuthenticationTicket WithKey(AuthenticationTicket ticket, string key)
    {
        if (ticket.Principal.Identity is ClaimsIdentity identity && !identity.HasClaim(SessionClaim, key))
        {
            foreach (var old in identity.FindAll(SessionClaim).ToList())
            {
                identity.RemoveClaim(old);
            }

            identity.AddClaim(new Claim(SessionClaim, key));
        }

        return ticket;
    }

    private static string UserOf(AuthenticationTicket ticket) => ticket.Principal.Identity?.Name ?? "";

    private static string CacheKey(string key) => $"browser-session:{key}";

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

/// <summary>Wires <see cref="BrowserSessionStore"/> into Identity's application cookie.</summary>
internal sealed class BrowserSessionCookieSetup(BrowserSessionStore store) : Microsoft.Extensions.Options.IPostConfigureOptions<CookieAuthenticationOptions>
{
    public void PostConfigure(string? name, CookieAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (name == Microsoft.AspNetCore.Identity.IdentityConstants.ApplicationScheme)
        {
            options.SessionStore = store;
        }
    }
}
