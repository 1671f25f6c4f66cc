using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Server;

namespace Conclave.Bench;

/// <summary>The two servers the load generator measures: Conclave itself, and a bare Kestrel WebSocket baseline.</summary>
internal static class Servers
{
    public const string ApiKey = "bench-admin-key";

    /// <summary>Conclave as shipped (builtin model, SQLite), or with an in-memory event store; plus the bench-only probes.</summary>
    public static async Task<int> ServeConclaveAsync(BenchArgs args)
    {
        var builder = WebApplication.CreateBuilder([]);
        builder.WebHost.UseUrls($"http://127.0.0.1:{args.Port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Conclave:DataDir"] = args.DataDir,
            ["Conclave:Auth:AdminKey"] = ApiKey,
            ["Conclave:Llm:Builtin:TokenDelayMs"] = args.DelayMs.ToString(CultureInfo.InvariantCulture),
            // The load generator reads every socket as fast as it can; the bench measures, it does not drop.
            ["Conclave:WebSocket:SendQueueCapacity"] = "1000000",
            ["Conclave:WebSocket:MaxFramesPerSecond"] = "100000",
            ["Logging:LogLevel:Default"] = "Warning",
            ["Logging:LogLevel:Microsoft.Hosting.Lifetime"] = "Information",
        });
        if (args.Postgres is not null)
        {
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Conclave:Storage:Provider"] = "Postgres",
                ["Conclave:Storage:ConnectionString"] = args.Postgres,
                ["Conclave:Cluster:Redis"] = args.Redis,
                ["Conclave:Cluster:ChannelPrefix"] = $"conclave-bench-{Guid.NewGuid():N}",
            });
        }

        builder.AddConclaveServer();
        if (args.MemoryStore)
        {
            builder.Services.AddSingleton<IEventStore, InMemoryEventStore>();
        }

        var app = builder.Build();
        app.UseConclaveServer();
        MapAllocationProbe(app);
        await app.RunAsync();
        return 0;
    }

    /// <summary>
    /// The baseline: the same URLs and the same JSON token frames, written straight to the socket by one loop:
    /// no runtime, no storage, no fan-out.
    /// </summary>
    public static async Task<int> ServeBaselineAsync(BenchArgs args)
    {
        var builder = WebApplication.CreateSlimBuilder([]);
        builder.WebHost.UseUrls($"http://127.0.0.1:{args.Port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.Hosting.Lifetime", LogLevel.Information);
        var app = builder.Build();
        app.UseWebSockets();
        var sessions = 0L;
        app.MapPost("/api/v1/sessions", () =>
        {
            var id = Interlocked.Increment(ref sessions).ToString("x32", CultureInfo.InvariantCulture);
            return Results.Json(new { id, title = (string?)null, created_at = DateTime.UtcNow }, statusCode: 201);
        });
        app.Map("/api/v1/chat/ws/{sessionId}", (string sessionId, HttpContext http) => StreamBaselineAsync(sessionId, http, args.DelayMs));
        MapAllocationProbe(app);
        await app.RunAsync();
        return 0;
    }

    private static void MapAllocationProbe(WebApplication app)
    {
        app.MapGet("/bench/allocated", () => Results.Text(GC.GetTotalAllocatedBytes(precise: true).ToString(CultureInfo.InvariantCulture)));
        app.MapGet("/bench/compiled", () => Results.Text(System.Runtime.JitInfo.GetCompiledMethodCount().ToString(CultureInfo.InvariantCulture)));
        app.MapGet("/bench/collector", () => Results.Text(string.Create(
            CultureInfo.InvariantCulture, $"{GC.GetTotalPauseDuration().TotalMilliseconds} {GC.CollectionCount(0)} {GC.CollectionCount(1)} {GC.CollectionCount(2)}")));
        app.MapGet("/bench/pool-threads", () => Results.Text(ThreadPool.ThreadCount.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>
    /// One baseline socket: waits for a frame without a buffer, reads the message into a pooled buffer it gives back at
    /// once, then writes the run's frames with one reused writer, each after the model's delay, paced as the builtin
    /// model paces its tokens. No cancellation token anywhere (a send or a wait without one registers nothing); a
    /// client that goes away ends the loop with the socket's exception.
    /// </summary>
    private static async Task StreamBaselineAsync(string sessionId, HttpContext http, int delayMs)
    {
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        ArrayBufferWriter<byte>? output = null;
        Utf8JsonWriter? json = null;
        try
        {
            await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"connected","session_id":"{{sessionId}}","protocol":1,"last_event_id":0,"active_run_id":null,"pending":[]}"""),
                WebSocketMessageType.Text, true, CancellationToken.None);
            var eventId = 0L;
            while (true)
            {
                var ready = await socket.ReceiveAsync(Memory<byte>.Empty, CancellationToken.None);
                if (ready.MessageType == WebSocketMessageType.Close)
                {
                    break;
                }

                // An empty frame is taken whole by the wait; anything else is read to its end.
                var words = ready.EndOfMessage ? 1 : await ReceiveWordsAskedAsync(socket);
                if (words is not { } count)
                {
                    break;
                }

                output ??= new ArrayBufferWriter<byte>(256);
                json ??= new Utf8JsonWriter(output);
                var runId = $"run_{Guid.NewGuid():N}";
                using var pacer = delayMs > 0 ? new StreamPacer(TimeProvider.System, TimeSpan.FromMilliseconds(delayMs), CancellationToken.None) : null;
                for (var i = 1; i <= count; i++)
                {
                    if (pacer is not null)
                    {
                        await pacer.WaitAsync();
                    }

                    output.ResetWrittenCount();
                    json.Reset();
                    WriteToken(json, ++eventId, runId, i);
                    await socket.SendAsync(output.WrittenMemory, WebSocketMessageType.Text, true, CancellationToken.None);
                }

                var final = $$"""{"type":"final_answer","event_id":{{++eventId}},"ts":"{{DateTime.UtcNow:O}}","run_id":"{{runId}}","content":"","usage":{"input_tokens":0,"output_tokens":{{count}}},"finish_reason":"stop"}""";
                await socket.SendAsync(Encoding.UTF8.GetBytes(final), WebSocketMessageType.Text, true, CancellationToken.None);
            }
        }
        catch (WebSocketException)
        {
            // the client went away
        }
        finally
        {
            json?.Dispose();
        }
    }

    /// <summary>Reads the rest of a message into a pooled buffer; the words it asks for (1 if it names none), or null at a close.</summary>
    private static async Task<int?> ReceiveWordsAskedAsync(WebSocket socket)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }

            var words = WordsAsked(buffer.AsSpan(0, received.Count));
            while (!received.EndOfMessage)
            {
                received = await socket.ReceiveAsync(buffer.AsMemory(), CancellationToken.None);
            }

            return words;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>The N of "stream N words" in the message's UTF-8, or 1.</summary>
    private static int WordsAsked(ReadOnlySpan<byte> frame)
    {
        var at = frame.IndexOf("stream "u8);
        if (at < 0)
        {
            return 1;
        }

        var rest = frame[(at + "stream ".Length)..];
        return Utf8Parser.TryParse(rest, out int words, out var digits) && rest[digits..].StartsWith(" words"u8) ? words : 1;
    }

    /// <summary>The frame Conclave sends for a token: type, event_id, ts, run_id, content (" wordN", "word1" first).</summary>
    private static void WriteToken(Utf8JsonWriter json, long eventId, string runId, int word)
    {
        Span<byte> content = stackalloc byte[16];
        var length = 0;
        if (word > 1)
        {
            content[length++] = (byte)' ';
        }

        "word"u8.CopyTo(content[length..]);
        length += "word".Length;
        Utf8Formatter.TryFormat(word, content[length..], out var digits);
        json.WriteStartObject();
        json.WriteString("type"u8, "token"u8);
        json.WriteNumber("event_id"u8, eventId);
        json.WriteString("ts"u8, DateTime.UtcNow);
        json.WriteString("run_id"u8, runId);
        json.WriteString("content"u8, content[..(length + digits)]);
        json.WriteEndObject();
        json.Flush();
    }
}
