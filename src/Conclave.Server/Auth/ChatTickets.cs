using Conclave.Cluster.Redis;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Auth;

/// <summary>
/// Short-lived, single-use tickets that open one chat socket in a key's name, so that a browser never puts its
/// long-lived key in a WebSocket URL. Kept as SHA-256 hashes in the single-use values (this process's memory; Redis
/// as one of several instances, so that a ticket issued through one opens a socket on any); a ticket is gone once used
/// or expired, and is refused once its key is revoked.
/// </summary>
internal sealed class ChatTickets(ApiKeyRegistry keys, ISingleUseValues values, TimeProvider time, IOptions<AuthOptions> options)
{
    private const string Prefix = "tkt_";

    private readonly TimeSpan _lifetime = TimeSpan.FromSeconds(options.Value.TicketSeconds);

    /// <summary>A new ticket for <paramref name="caller"/> and when it expires.</summary>
    public async Task<(string Ticket, DateTime ExpiresAt)> IssueAsync(Caller caller, CancellationToken cancellationToken)
    {
        var ticket = ApiKeys.Secret(Prefix);
        var expiresAt = time.GetUtcNow() + _lifetime;
        await values.PutAsync(KeyOf(ticket), $"{(caller.IsAdmin ? 'a' : 't')}{caller.TenantId}\n{caller.KeyId}", _lifetime, cancellationToken);
        return (ticket, expiresAt.UtcDateTime);
    }

    /// <summary>The caller a ticket was issued to, once: null when it is unknown, used, expired or its key revoked.</summary>
    public async Task<Caller?> RedeemAsync(string ticket, CancellationToken cancellationToken)
    {
        if (!ticket.StartsWith(Prefix, StringComparison.Ordinal) || await values.TakeAsync(KeyOf(ticket), cancellationToken) is not { Length: > 1 } kept)
        {
            return null;
        }

        var newline = kept.IndexOf('\n', StringComparison.Ordinal);
        if (newline < 0)
        {
            return null;
        }

        var caller = new Caller(kept[(newline + 1)..], kept[1..newline], IsAdmin: kept[0] == 'a');
        return keys.IsRevoked(caller.KeyId) ? null : caller;
    }

    private static string KeyOf(string ticket) => "ticket:" + Convert.ToHexString(ApiKeys.Hash(ticket));
}
