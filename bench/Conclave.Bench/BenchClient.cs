using System.Buffers.Text;
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

    /// <summary>Has the server run a full, compacting garbage collection that gives unused memory back to the system.</summary>
    public async Task CollectServerGarbageAsync()
    {
        using var response = await _http.PostAsync("/bench/collect", null);
        response.EnsureSuccessStatusCode();
        await Task.Delay(500);
    }

    /// <summary>How many methods the server's just-in-time compiler has compiled so far (every tier).</summary>
    public async Task<long> ServerCompiledMethodsAsync() =>
        long.Parse(await _http.GetStringAsync("/bench/compiled"), System.Globalization.CultureInfo.InvariantCulture);

    public async Task<long> ServerAllocatedBytesAsync() =>
        long.Parse(await _http.GetStringAsync("/bench/allocated"), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Opens a socket on the session and reads its <c>connected</c> frame.</summary>
    public async Task<ClientWebSocket> ConnectAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        await socket.ConnectAsync(new Uri($"ws://{_http.BaseAddress!.Authority}/api/v1/chat/ws/{sessionId}?api_key={Servers.ApiKey}"), cancellationToken);
        var buffer = new byte[16 * 1024];
        await ReceiveFrameAsync(socket, buffer, cancellationToken);
        return socket;
    }

    public static Task SendMessageAsync(ClientWebSocket socket, string content, CancellationToken cancellationToken = default) =>
        socket.SendAsync(JsonSerializer.SerializeToUtf8Bytes(new { type = "message", content }), WebSocketMessageType.Text, true, cancellationToken);

    /// <summary>
    /// Reads a run to its end. <paramref name="onToken"/> gets each token's server timestamp and the time it arrived;
    /// returns the number of tokens.
    /// </summary>
    public static async Task<int> ReadRunAsync(ClientWebSocket socket, Action<DateTime, DateTime>? onToken, CancellationToken cancellationToken = default)
    {
        var buffer = new byte[64 * 1024];
        var tokens = 0;
        while (true)
        {
            var length = await ReceiveFrameAsync(socket, buffer, cancellationToken);
            var frame = buffer.AsSpan(0, length);
            if (frame.StartsWith(TokenPrefix))
            {
                tokens++;
                if (onToken is not null)
                {
                    onToken(TimestampOf(frame), DateTime.UtcNow);
                }
            }
            else if (frame.StartsWith(FinalPrefix))
            {
                return tokens;
            }
            else if (frame.StartsWith(ErrorPrefix) && frame.IndexOf("\"run_id\""u8) >= 0)
            {
                throw new InvalidOperationException($"The run failed: {Encoding.UTF8.GetString(frame)}");
            }
        }
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Reads one frame; a frame longer than the buffer keeps its start (all the bench looks at) and the rest is skipped.</summary>
    private static async Task<int> ReceiveFrameAsync(ClientWebSocket socket, byte[] buffer, CancellationToken cancellationToken)
    {
        var length = 0;
        var skip = new byte[0];
        while (true)
        {
            if (length == buffer.Length && skip.Length == 0)
            {
                skip = new byte[64 * 1024];
            }

            var target = length < buffer.Length ? buffer.AsMemory(length) : skip.AsMemory();
            var result = await socket.ReceiveAsync(target, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                throw new InvalidOperationException($"The server closed the socket: {socket.CloseStatus} {socket.CloseStatusDescription}");
            }

            length = Math.Min(buffer.Length, length + result.Count);
            if (result.EndOfMessage)
            {
                return length;
            }
        }
    }

    private static DateTime TimestampOf(ReadOnlySpan<byte> frame)
    {
        var at = frame.IndexOf(TsProperty);
        var value = frame[(at + TsProperty.Length)..];
        value = value[..value.IndexOf((byte)'"')];
        return Utf8Parser.TryParse(value, out DateTime ts, out _, 'O') ? ts.ToUniversalTime() : DateTime.Parse(Encoding.UTF8.GetString(value), null, System.Globalization.DateTimeStyles.RoundtripKind);
    }
}
