using System.Buffers.Text;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace Conclave.Bench;

/// <summary>The load generator's view of a server: sessions over REST, runs over real WebSockets.</summary>
internal sealed class BenchClient(Uri baseUri) : IDisposable
{
    private static readonly byte[] TokenPrefix = Encoding.UTF8.GetBytes("{\"type\":\"token\"");
    private static readonly byte[] FinalPrefix = Encoding.UTF8.GetBytes("{\"type\":\"final_answer\"");
    private static readonly byte[] ErrorPrefix = Encoding.UTF8.GetBytes("{\"type\":\"error\"");
    private static readonly byte[] TsProperty = Encoding.UTF8.GetBytes("\"ts\":\"");
    private static readonly byte[] OutputTokensProperty = Encoding.UTF8.GetBytes("\"output_tokens\":");

    // The last bytes kept of a frame longer than the read buffer: enough for a final_answer's usage and finish reason.
    private const int FrameTailBytes = 512;

    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = 256 }) { BaseAddress = baseUri };

    public async Task<string> CreateSessionAsync(CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/sessions") { Content = JsonContent.Create(new { title = "bench" }) };
        request.Headers.Add("X-API-Key", Servers.ApiKey);
        using var response = await _http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        return body.GetProperty("id").GetString()!;
    }

    /// <summary>How many methods the server's just-in-time compiler has compiled so far (every tier).</summary>
    public async Task<long> ServerCompiledMethodsAsync() =>
        long.Parse(await _http.GetStringAsync("/bench/compiled"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>
    /// The server's thread-pool threads now. The pool keeps an idle thread for about 20 s, so right after a round this is
    /// about the most the round had.
    /// </summary>
    public async Task<int> ServerPoolThreadsAsync() =>
        int.Parse(await _http.GetStringAsync("/bench/pool-threads"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The server's garbage collector so far: its total pause, and how many collections of each generation.</summary>
    public async Task<CollectorCounts> ServerCollectorAsync()
    {
        var parts = (await _http.GetStringAsync("/bench/collector")).Split(' ');
        var counts = parts.Skip(1).Select(p => int.Parse(p, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        return new CollectorCounts(double.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), counts[0], counts[1], counts[2]);
    }

    public async Task<long> ServerAllocatedBytesAsync() =>
        long.Parse(await _http.GetStringAsync("/bench/allocated"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Opens a socket on the session and reads its <c>connected</c> frame.</summary>
    public async Task<ClientWebSocket> ConnectAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(new Uri($"ws://{_http.BaseAddress!.Authority}/api/v1/chat/ws/{sessionId}?api_key={Servers.ApiKey}"), cancellationToken);
        await ReceiveFrameAsync(socket, new byte[16 * 1024], new byte[FrameTailBytes], cancellationToken);
        return socket;
    }

    /// <summary>Sends a <c>message</c> frame; returns the <see cref="Stopwatch"/> timestamp taken just before the send.</summary>
    public static async Task<long> SendMessageAsync(ClientWebSocket socket, string content, CancellationToken cancellationToken = default)
    {
        var frame = JsonSerializer.SerializeToUtf8Bytes(new { type = "message", content });
        var sentAt = Stopwatch.GetTimestamp();
        await socket.SendAsync(frame, WebSocketMessageType.Text, true, cancellationToken);
        return sentAt;
    }

    /// <summary>
    /// Reads a run to its end; <paramref name="onToken"/> gets each token frame as it arrives. Returns the token frames
    /// received and the tokens the model wrote (<c>final_answer</c>'s <c>usage.output_tokens</c>): a frame carries
    /// several of them when the server merged pieces the model had ready.
    /// </summary>
    public static async Task<RunRead> ReadRunAsync(ClientWebSocket socket, Action<TokenArrival>? onToken, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[64 * 1024];
        var tail = new byte[FrameTailBytes];
        var frames = 0;
        while (true)
        {
            var (length, tailLength) = await ReceiveFrameAsync(socket, buffer, tail, cancellationToken);
            var receivedAt = Stopwatch.GetTimestamp();
            var received = DateTime.UtcNow;
            var frame = buffer.AsSpan(0, length);
            if (frame.StartsWith(TokenPrefix))
            {
                frames++;
                onToken?.Invoke(new TokenArrival(TimestampOf(frame), received, receivedAt));
            }
            else if (frame.StartsWith(FinalPrefix))
            {
                return new RunRead(frames, OutputTokensOf(tailLength > 0 ? tail.AsSpan(0, tailLength) : frame));
            }
            else if (frame.StartsWith(ErrorPrefix) && frame.IndexOf("\"run_id\""u8) >= 0)
            {
                throw new InvalidOperationException($"The run failed: {Encoding.UTF8.GetString(frame)}");
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>
    /// Reads one frame into <paramref name="buffer"/>; of a frame longer than the buffer, its start (what the bench looks
    /// at) is kept there and its last bytes in <paramref name="tail"/> (a whole answer's <c>final_answer</c> ends with its
    /// usage), the rest is skipped. Returns the lengths kept of each (a tail only when the frame was longer).
    /// </summary>
    private static async Task<(int Length, int TailLength)> ReceiveFrameAsync(ClientWebSocket socket, byte[] buffer, byte[] tail, CancellationToken cancellationToken)
    {
        var length = 0;
        var tailLength = 0;
        var skip = Array.Empty<byte>();
        while (true)
        {
            if (length == buffer.Length && skip.Length == 0)
            {
                // The frame goes on past the buffer: its tail starts with the buffer's end.
                skip = new byte[64 * 1024];
                tailLength = KeepLast(tail, 0, buffer);
            }

            var overflow = length == buffer.Length;
            var target = overflow ? skip.AsMemory() : buffer.AsMemory(length);
            var result = await socket.ReceiveAsync(target, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the socket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            if (overflow)
            {
                tailLength = KeepLast(tail, tailLength, skip.AsSpan(0, result.Count));
            }
            else
            {
                length += result.Count;
            }

            if (result.EndOfMessage)
            {
                return (length, tailLength);
            }
        }
    }

    /// <summary>Appends <paramref name="bytes"/> to the <paramref name="kept"/> bytes of <paramref name="tail"/>, keeping the last that fit.</summary>
    private static int KeepLast(byte[] tail, int kept, ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length >= tail.Length)
        {
            bytes[^tail.Length..].CopyTo(tail);
            return tail.Length;
        }

        var stay = Math.Min(kept, tail.Length - bytes.Length);
        tail.AsSpan(kept - stay, stay).CopyTo(tail);
        bytes.CopyTo(tail.AsSpan(stay));
        return stay + bytes.Length;
    }

    private static long OutputTokensOf(ReadOnlySpan<byte> frame)
    {
        var at = frame.IndexOf(OutputTokensProperty);
        return at >= 0 && Utf8Parser.TryParse(frame[(at + OutputTokensProperty.Length)..], out long tokens, out _)
            ? tokens
            : throw new InvalidOperationException($"No output_tokens at the end of a final_answer: ...{Encoding.UTF8.GetString(frame[^Math.Min(frame.Length, 200)..])}");
    }

    private static DateTime TimestampOf(ReadOnlySpan<byte> frame)
    {
        var at = frame.IndexOf(TsProperty);
        var value = frame[(at + TsProperty.Length)..];
        value = value[..value.IndexOf((byte)'"')];
        return Utf8Parser.TryParse(value, out DateTime ts, out _, 'O') ? ts.ToUniversalTime() : DateTime.Parse(Encoding.UTF8.GetString(value), null, System.Globalization.DateTimeStyles.RoundtripKind);
    }
}

/// <summary>A server's collector counts (<see cref="BenchClient.ServerCollectorAsync"/>); less another, what happened between; summed, over several spans.</summary>
internal readonly record struct CollectorCounts(double PausedMilliseconds, int Gen0, int Gen1, int Gen2)
{
    public static CollectorCounts operator -(CollectorCounts after, CollectorCounts before) =>
        new(after.PausedMilliseconds - before.PausedMilliseconds, after.Gen0 - before.Gen0, after.Gen1 - before.Gen1, after.Gen2 - before.Gen2);

    public static CollectorCounts operator +(CollectorCounts a, CollectorCounts b) =>
        new(a.PausedMilliseconds + b.PausedMilliseconds, a.Gen0 + b.Gen0, a.Gen1 + b.Gen1, a.Gen2 + b.Gen2);
}

/// <summary>What the client read of a run: its token frames, and the tokens the model wrote.</summary>
internal readonly record struct RunRead(int Frames, long OutputTokens);

/// <summary>
/// A token frame as the client got it: the server's <c>ts</c> (stamped when the model's token was appended to the
/// session's log), and when it arrived, by the wall clock and by <see cref="Stopwatch"/>.
/// </summary>
internal readonly record struct TokenArrival(DateTime Stamped, DateTime Received, long ReceivedAt)
{
    /// <summary>The delivery lag: from the server's stamp to the client's receive (one machine, one clock).</summary>
    public double LagMilliseconds => (Received - Stamped).TotalMilliseconds;

    /// <summary>Milliseconds from <paramref name="sentAt"/> (a <see cref="Stopwatch"/> timestamp) to the arrival.</summary>
    public double MillisecondsSince(long sentAt) => Stopwatch.GetElapsedTime(sentAt, ReceivedAt).TotalMilliseconds;
}
