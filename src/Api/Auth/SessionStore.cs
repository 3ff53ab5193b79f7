using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;

namespace Streaming.Api.Auth;

/// <summary>
/// Browser sessions held by the server: the cookie carries only a random key. Signing out removes the session, so a
/// copy of the cookie stops working with it; a session ends when its token is revoked (checked on every use, through
/// <see cref="ApiTokens"/>' short cache) and at <see cref="ApiOptions.SessionAbsoluteLifetime"/> however active it is.
/// Sessions live in this process: a restart of the API signs everyone out.
/// </summary>
public sealed class SessionStore(ApiTokens tokens, IOptions<ApiOptions> options, TimeProvider clock) : ITicketStore
{
    /// <summary>Where sign-in leaves the SHA-256 digest (hex) of the token a session was opened with.</summary>
    public const string TokenDigestItem = "streaming.token-sha256";

    const int MostSessions = 10_000;

    sealed record Entry(AuthenticationTicket Ticket, string TokenDigest, DateTimeOffset OpenedAt);

    readonly ConcurrentDictionary<string, Entry> _sessions = new(StringComparer.Ordinal);

    public int Count => _sessions.Count;

    public Task<string> StoreAsync(AuthenticationTicket ticket)
    {
        var digest = (ticket.Properties.Items.TryGetValue(TokenDigestItem, out var item) ? item : null)
            ?? throw new InvalidOperationException("a session is opened by signing in with a token");
        var now = clock.GetUtcNow();
        if (_sessions.Count >= MostSessions)
        {
            Evict(now);
        }
        var key = Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
        _sessions[key] = new Entry(ticket, digest, now);
        return Task.FromResult(key);
    }

    public Task RenewAsync(string key, AuthenticationTicket ticket)
    {
        if (_sessions.TryGetValue(key, out var entry))
        {
            _sessions.TryUpdate(key, entry with { Ticket = ticket }, entry);
        }
        return Task.CompletedTask;
    }

    public Task<AuthenticationTicket?> RetrieveAsync(string key) => RetrieveAsync(key, CancellationToken.None);

    public async Task<AuthenticationTicket?> RetrieveAsync(string key, CancellationToken cancellationToken)
    {
        if (!_sessions.TryGetValue(key, out var entry))
        {
            return null;
        }
        if (clock.GetUtcNow() - entry.OpenedAt > options.Value.SessionAbsoluteLifetime
            || await tokens.FindByDigestAsync(entry.TokenDigest, cancellationToken) is null)
        {
            _sessions.TryRemove(key, out _);
            return null;
        }
        return entry.Ticket;
    }

    public Task RemoveAsync(string key)
    {
        _sessions.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    // Full: the expired go first, then the oldest, so sign-in keeps working and memory stays bounded.
    void Evict(DateTimeOffset now)
    {
        var expired = _sessions.Where(s => now - s.Value.OpenedAt > options.Value.SessionAbsoluteLifetime
            || s.Value.Ticket.Properties.ExpiresUtc is { } expires && expires < now).Select(s => s.Key).ToList();
        if (expired.Count == 0)
        {
            expired = _sessions.OrderBy(s => s.Value.OpenedAt).Take(MostSessions / 10).Select(s => s.Key).ToList();
        }
        foreach (var key in expired)
        {
            _sessions.TryRemove(key, out _);
        }
    }
}
