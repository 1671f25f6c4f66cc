using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>A real client socket that reads whole JSON frames and keeps everything it received.</summary>
internal sealed class TestSocket(ClientWebSocket socket) : IAsyncDisposable
{
    private readonly byte[] _buffer = new byte[64 * 1024];
    private readonly MemoryStream _message = new();

    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    public ClientWebSocket Socket { get; } = socket;

    public JsonElement Connected { get; set; }

    public List<JsonElement> Received { get; } = [];

    public Task SendAsync(object frame) => SendTextAsync(JsonSerializer.Serialize(frame));

    public Task SendTextAsync(string text) =>
        Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    /// <summary>Reads the next frame; throws on timeout or when the socket closes.</summary>
    public async Task<JsonElement> ReceiveAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        var message = _message;
        message.SetLength(0);
        while (true)
        {
            var result = await Socket.ReceiveAsync(_buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new WebSocketClosedException(Socket.CloseStatus, Socket.CloseStatusDescription);
            }

            message.Write(_buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                var frame = JsonDocument.Parse(message.GetBuffer().AsMemory(0, (int)message.Length)).RootElement.Clone();
                Received.Add(frame);
                return frame;
            }
        }
    }

    /// <summary>
    /// Reads until the connection dies or closes (its server was killed), or nothing comes for 10 s; returns every event
    /// the socket received, past its <c>connected</c>.
    /// </summary>
    public async Task<List<JsonElement>> ReceiveUntilGoneAsync()
    {
        try
        {
            while (true)
            {
                await ReceiveAsync(TimeSpan.FromSeconds(10));
            }
        }
        catch (Exception ex) when (ex is WebSocketException or WebSocketClosedException or OperationCanceledException)
        {
        }

        return [.. Received.Skip(1)];
    }

    /// <summary>Reads until a frame matches; returns every frame read, the match last.</summary>
    public async Task<List<JsonElement>> ReceiveUntilAsync(Func<JsonElement, bool> predicate, TimeSpan? timeout = null)
    {
        var frames = new List<JsonElement>();
        var deadline = DateTime.UtcNow + (timeout ?? DefaultTimeout);
        while (true)
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero)
            {
                throw new TimeoutException($"No matching frame; got {string.Join(", ", frames.Select(f => f.Type()))}");
            }

            var frame = await ReceiveAsync(left);
            frames.Add(frame);
            if (predicate(frame))
            {
                return frames;
            }
        }
    }

    public async Task<JsonElement> ReceiveTypeAsync(string type, TimeSpan? timeout = null) =>
        (await ReceiveUntilAsync(f => f.Type() == type, timeout))[^1];

    /// <summary>Reads the events of a run up to and including its terminal event.</summary>
    public Task<List<JsonElement>> ReceiveRunEndAsync(TimeSpan? timeout = null) =>
        ReceiveUntilAsync(f => f.IsTerminal(), timeout);

    /// <summary>Sends a message and reads until its run ends; returns the run's frames.</summary>
    public async Task<List<JsonElement>> ChatAsync(string content, TimeSpan? timeout = null)
    {
        await SendAsync(new { type = "message", content });
        return await ReceiveRunEndAsync(timeout);
    }

    public async ValueTask DisposeAsync()
    {
        if (Socket.State == WebSocketState.Open)
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await Socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", cts.Token);
            }
            catch (Exception ex) when (ex is WebSocketException or OperationCanceledException)
            {
                // The server went first.
            }
        }

        Socket.Dispose();
        await _message.DisposeAsync();
    }
}

internal sealed class WebSocketClosedException(WebSocketCloseStatus? status, string? description)
    : Exception($"The server closed the socket: {status} {description}")
{
    public WebSocketCloseStatus? Status { get; } = status;
}

internal static class FrameExtensions
{
    public static string? Type(this JsonElement frame) => frame.Str("type");

    public static string? Str(this JsonElement frame, string name) =>
        frame.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long EventId(this JsonElement frame) =>
        frame.TryGetProperty("event_id", out var value) ? value.GetInt64() : 0;

    public static bool IsTerminal(this JsonElement frame) =>
        frame.Type() is "final_answer" || (frame.Type() == "error" && frame.TryGetProperty("run_id", out _));

    public static string Tokens(this IEnumerable<JsonElement> frames) =>
        string.Concat(frames.Where(f => f.Type() == "token").Select(f => f.Str("content")));
}
