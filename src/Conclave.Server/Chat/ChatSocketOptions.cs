using System.ComponentModel.DataAnnotations;

namespace Conclave.Server.Chat;

/// <summary>Chat socket settings (<c>Conclave:WebSocket</c>).</summary>
internal sealed class ChatSocketOptions
{
    public const string Section = "Conclave:WebSocket";

    /// <summary>The largest client frame accepted; a larger one gets <c>payload_too_large</c>.</summary>
    [Range(1024, 64 * 1024 * 1024)]
    public int MaxMessageBytes { get; set; } = 1024 * 1024;

    /// <summary>Frames queued for one socket; a client that falls this far behind is closed with 1008 and resumes by <c>last_event_id</c>.</summary>
    [Range(8, 1_000_000)]
    public int SendQueueCapacity { get; set; } = 8_192;

    /// <summary>Seconds between keep-alive pings; 0 turns them off.</summary>
    [Range(0, 3600)]
    public int KeepAliveSeconds { get; set; } = 30;

    /// <summary>Seconds to wait for the pong of a keep-alive ping before the socket is dropped; 0 waits forever.</summary>
    [Range(0, 3600)]
    public int KeepAliveTimeoutSeconds { get; set; } = 60;

    /// <summary>Client frames allowed per second on one socket (bursts up to twice this); more get <c>rate_limited</c>.</summary>
    [Range(1, 100_000)]
    public int MaxFramesPerSecond { get; set; } = 50;

    /// <summary>Seconds a close handshake may take before the connection is aborted.</summary>
    [Range(1, 60)]
    public int CloseTimeoutSeconds { get; set; } = 5;
}
