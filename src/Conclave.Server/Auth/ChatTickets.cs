using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Auth;

/// <summary>
/// Short-lived, single-use tickets that open one chat socket in a key's name, so that a browser never puts its
/// long-lived key in a WebSocket URL. Kept in this process's memory as SHA-256 hashes; a ticket is gone once
/// used, once expired, and when its key is revoked.
/// </summary>
internal sealed class ChatTickets
{
    private const string Prefix = "tkt_";

    private readonly ConcurrentDictionary<string, Issued> _tickets = new(StringComparer.Ordinal);
    private readonly ApiKeyRegistry _keys;
    private readonly TimeProvider _time;
    private readonly TimeSpan _lifetime;
    private long _nextSweepTicks;

    public ChatTickets(ApiKeyRegistry keys, TimeProvider time, IOptions<AuthOptions> options)
    {
        _keys = keys;
        _time = time;
        _lifetime = TimeSpan.FromSeconds(options.Value.TicketSeconds);
        keys.Revoked += Forget;
    }

    /// <summary>A new ticket for <paramref name="caller"/> and when it expires.</summary>
    public (string Ticket, DateTime ExpiresAt) Issue(Caller caller)
    {
        var now = _time.GetUtcNow();
        SweepExpired(now);
        var ticket = ApiKeys.Secret(Prefix);
        var expiresAt = now + _lifetime;
        _tickets[HashOf(ticket)] = new Issued(caller, expiresAt);
        return (ticket, expiresAt.UtcDateTime);
    }

    /// <summary>The caller a ticket was issued to, once: null when it is unknown, used, expired or its key revoked.</summary>
    public Caller? Redeem(string ticket)
    {
        if (!ticket.StartsWith(Prefix, StringComparison.Ordinal) || !_tickets.TryRemove(HashOf(ticket), out var issued))
        {
            return null;
        }

        return issued.ExpiresAt > _time.GetUtcNow() && !_keys.IsRevoked(issued.Caller.KeyId) ? issued.Caller : null;
    }

    /// <summary>
    /// Drops expired tickets, at most once a lifetime: no ticket is kept two lifetimes unused, and a sweep's scan is
    /// shared by every ticket issued in between, however many are out.
    /// </summary>
    private void SweepExpired(DateTimeOffset now)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweepTicks, (now + _lifetime).UtcTicks, due) != due)
        {
            return;
        }

        RemoveWhere(issued => issued.ExpiresAt <= now);
    }

    private void Forget(string keyId) => RemoveWhere(issued => issued.Caller.KeyId == keyId);

    private void RemoveWhere(Func<Issued, bool> drop)
    {
        foreach (var entry in _tickets.Where(e => drop(e.Value)).ToList())
        {
            _tickets.TryRemove(entry);
        }
    }

    private static string HashOf(string ticket) => Convert.ToHexString(ApiKeys.Hash(ticket));

    private sealed record Issued(Caller Caller, DateTimeOffset ExpiresAt);
}
