using System.Collections.Concurrent;
using System.Net.WebSockets;
using Conclave.Server.Auth;

namespace Conclave.Server.Chat;

/// <summary>The open chat sockets of this process, so that they can be closed by session, by key, or all at once.</summary>
internal sealed class ChatConnectionRegistry
{
    private readonly ConcurrentDictionary<ChatConnection, byte> _connections = new();
    private readonly ApiKeyRegistry _keys;

    public ChatConnectionRegistry(ApiKeyRegistry keys)
    {
        _keys = keys;
        keys.Revoked += keyId => _ = CloseWhereAsync(c => c.Caller.KeyId == keyId, WebSocketCloseStatus.PolicyViolation, "The API key was revoked.", drain: false);
    }

    public int Count => _connections.Count;

    /// <summary>The open connections of a session.</summary>
    public IReadOnlyList<ChatConnection> OfSession(string sessionId) => [.. _connections.Keys.Where(c => c.SessionId == sessionId)];

    public void Add(ChatConnection connection)
    {
        _connections.TryAdd(connection, 0);

        // A revoke between the upgrade's authentication and this line found no connection to close.
        if (_keys.IsRevoked(connection.Caller.KeyId))
        {
            connection.RequestClose(WebSocketCloseStatus.PolicyViolation, "The API key was revoked.", drain: false);
        }
    }

    public void Remove(ChatConnection connection) => _connections.TryRemove(connection, out _);

    /// <summary>Closes the sockets of a deleted session, after they sent what they had queued.</summary>
    public Task CloseSessionAsync(string sessionId) =>
        CloseWhereAsync(c => c.SessionId == sessionId, WebSocketCloseStatus.NormalClosure, "The session was deleted.", drain: true);

    /// <summary>Closes every socket with 1001 after it sent what it had queued.</summary>
    public Task CloseAllAsync() =>
        CloseWhereAsync(_ => true, WebSocketCloseStatus.EndpointUnavailable, "The server is shutting down.", drain: true);

    private Task CloseWhereAsync(Func<ChatConnection, bool> predicate, WebSocketCloseStatus status, string description, bool drain)
    {
        var closing = _connections.Keys.Where(predicate).ToList();
        foreach (var connection in closing)
        {
            connection.RequestClose(status, description, drain);
        }

        // One connection's failure must not stop the others from closing, nor fail the caller.
        return Task.WhenAll(closing.Select(c => c.Completion.ContinueWith(static _ => { }, TaskScheduler.Default)));
    }
}
