using System.Globalization;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Server;

namespace Conclave.Bench;

/// <summary>The two servers the load generator measures: Conclave itself, and a bare Kestrel WebSocket baseline.</summary>
internal static class Servers
{
    public const string ApiKey = "bench-admin-key";

    /// <summary>Conclave as shipped (builtin model, SQLite), or with an in-memory event store; plus one bench-only endpoint.</summary>
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
        app.MapPost("/bench/collect", () =>
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
            return Results.NoContent();
        });
    }

    private static async Task StreamBaselineAsync(string sessionId, HttpContext http, int delayMs)
    {
        using var socket = await http.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[64 * 1024];
        var output = new System.Buffers.ArrayBufferWriter<byte>(512);
        await socket.SendAsync(Encoding.UTF8.GetBytes($$"""{"type":"connected","session_id":"{{sessionId}}","protocol":1,"last_event_id":0,"active_run_id":null,"pending":[]}"""),
            WebSocketMessageType.Text, true, http.RequestAborted);
        var eventId = 0L;
        while (socket.State == WebSocketState.Open)
        {
            var received = await socket.ReceiveAsync(buffer, http.RequestAborted);
            if (received.MessageType == WebSocketMessageType.Close)
            {
                break;
            }

            var words = WordsAsked(buffer.AsSpan(0, received.Count));
            var runId = $"run_{Guid.NewGuid():N}";
            for (var i = 1; i <= words; i++)
            {
                if (delayMs > 0)
                {
                    await Task.Delay(delayMs, http.RequestAborted);
                }

                output.ResetWrittenCount();
                using (var json = new Utf8JsonWriter(output))
                {
                    json.WriteStartObject();
                    json.WriteString("type", "token");
                    json.WriteNumber("event_id", ++eventId);
                    json.WriteString("ts", DateTime.UtcNow);
                    json.WriteString("run_id", runId);
                    json.WriteString("content", i == 1 ? "word1" : $" word{i}");
                    json.WriteEndObject();
                }

                await socket.SendAsync(output.WrittenMemory, WebSocketMessageType.Text, true, http.RequestAborted);
            }

            var final = $$"""{"type":"final_answer","event_id":{{++eventId}},"ts":"{{DateTime.UtcNow:O}}","run_id":"{{runId}}","content":"","usage":{"input_tokens":0,"output_tokens":{{words}}},"finish_reason":"stop"}""";
            await socket.SendAsync(Encoding.UTF8.GetBytes(final), WebSocketMessageType.Text, true, http.RequestAborted);
        }
    }

    private static int WordsAsked(ReadOnlySpan<byte> frame)
    {
        var text = Encoding.UTF8.GetString(frame);
        var match = System.Text.RegularExpressions.Regex.Match(text, @"stream (\d+) words");
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 1;
    }
}
