using System.Net.WebSockets;
using System.Text;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Chat;

/// <summary>
/// Random client frames of every kind (not JSON, wrong shapes, bad fields, odd escapes, oversized, binary): each is
/// answered with one <c>pong</c> or one <c>error</c> about that frame, and the socket lives on.
/// </summary>
public sealed class FrameFuzzTests
{
    private const int MaxMessageBytes = 4096;

    private static readonly HashSet<string> FrameErrorCodes =
        ["invalid_json", "invalid_message", "unknown_type", "no_active_run", "unknown_request", "payload_too_large"];

    [Theory]
    [InlineData(20261202)]
    [InlineData(7)]
    public async Task EveryRandomFrameIsAnsweredOnceAndTheSocketLives(int seed)
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:WebSocket:MaxMessageBytes"] = MaxMessageBytes.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Conclave:WebSocket:MaxFramesPerSecond"] = "100000",
        });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        var frames = new RandomFrames(new Random(seed));

        for (var i = 0; i < 600; i++)
        {
            var (text, binary) = frames.Next();
            var shown = $"frame {i} of seed {seed}: {(binary ? "(binary)" : text.Length > 200 ? text[..200] + "…" : text)}";
            if (binary)
            {
                await socket.Socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Binary, true, CancellationToken.None);
            }
            else
            {
                await socket.SendTextAsync(text);
            }

            await socket.SendAsync(new { type = "ping", nonce = $"probe-{i}" });
            var replies = await ReceiveUntilProbeAsync(socket, i, shown);

            var reply = Assert.Single(replies);
            Assert.False(reply.TryGetProperty("event_id", out _), shown);
            Assert.True(
                reply.Type() == "pong" || (reply.Type() == "error" && FrameErrorCodes.Contains(reply.Str("code")!)),
                $"{shown} got {reply.GetRawText()}");
        }

        var answer = await socket.ChatAsync("stream 3 words");
        Assert.Equal("word1 word2 word3", answer[^1].Str("content"));
    }

    /// <summary>Reads the replies to a frame: everything before the pong to the probe ping that followed it.</summary>
    private static async Task<List<System.Text.Json.JsonElement>> ReceiveUntilProbeAsync(TestSocket socket, int probe, string shown)
    {
        List<System.Text.Json.JsonElement> frames;
        try
        {
            frames = await socket.ReceiveUntilAsync(f =>
                f.Type() == "pong" && f.TryGetProperty("nonce", out var nonce) && nonce.ValueKind == System.Text.Json.JsonValueKind.String
                && nonce.GetString() == $"probe-{probe}");
        }
        catch (Exception ex) when (ex is WebSocketClosedException or WebSocketException or TimeoutException)
        {
            throw new Xunit.Sdk.XunitException($"{shown} killed the socket: {ex.Message}");
        }

        return frames[..^1];
    }

    /// <summary>
    /// Frames that break the protocol in every way a client can, and valid frames that need no run (<c>ping</c>, a
    /// <c>cancel</c> with none active, replies to no request). It makes no valid <c>message</c>: that would start a run.
    /// </summary>
    private sealed class RandomFrames(Random random)
    {
        private static readonly string[] Types = ["message", "ping", "cancel", "confirmation_reply", "reply", "dance", "", "MESSAGE", "\\ud800", "p\\u0069ng"];

        private static readonly string[] Pieces =
            ["a", "é", "😀", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u0000", "\\n", "\\\"", "\\\\", "\\/", " ", "\\t", "<script>", "ü", "\\uFFFF", "\\uD800\\uD800"];

        public (string Text, bool Binary) Next() => random.Next(14) switch
        {
            0 => (RandomValue(0), true),
            1 => (NotJson(), false),
            2 => (RandomValue(0), false),
            3 => ($"{{\"type\": {RandomValue(2)}}}", false),
            4 => (AnyType(), false),
            5 => (Object(("type", "\"ping\""), ("nonce", RandomValue(0))), false),
            6 => (BrokenMessage(), false),
            7 => (Object(("type", "\"cancel\""), ("run_id", random.Next(2) == 0 ? RandomValue(2) : Str(RandomString()))), false),
            8 => (Object(("type", "\"confirmation_reply\""), ("request_id", Maybe(Str(RandomString()))), ("approved", Maybe(RandomValue(2))), ("reason", Maybe(RandomValue(2)))), false),
            9 => (Object(("type", "\"reply\""), ("request_id", Maybe(Str(RandomString()))), ("content", Maybe(RandomValue(2)))), false),
            10 => (Object(("type", "\"ping\""), ("nonce", Str(new string('x', MaxMessageBytes)))), false),
            11 => (new string('[', 40) + new string(']', 40), false),
            12 => (Object(("type", "\"ping\""), (RandomString(), RandomValue(1))), false),
            _ => (Object(("type", "\"cancel\"")), false),
        };

        private string AnyType()
        {
            var type = Pick(Types);
            return Object(("type", Str(type)), ("content", type == "message" ? "[1]" : RandomValue(1)), ("nonce", RandomValue(0)));
        }

        private string BrokenMessage() => random.Next(8) switch
        {
            0 => Object(("type", "\"message\"")),
            1 => Object(("type", "\"message\""), ("content", RandomValue(2) is var v && v.StartsWith('"') ? "7" : v)),
            2 => Object(("type", "\"message\""), ("content", "\"   \"")),
            3 => Object(("type", "\"message\""), ("content", "\"hi\""), ("mode", Str("crowd" + RandomString()))),
            4 => Object(("type", "\"message\""), ("content", "\"hi\""), ("skill", Str("no-such-skill-" + random.Next()))),
            5 => Object(("type", "\"message\""), ("content", "\"a\\ud800\"")),
            6 => Object(("type", "\"message\""), ("content", "\"hi\""), ("message_id", "[1]")),
            _ => Object(("type", "\"message\""), ("content", "\"hi\""), ("skill", "\"\\udfff\"")),
        };

        private string NotJson() => random.Next(5) switch
        {
            0 => "not json " + RandomString(),
            1 => "{\"type\": \"ping\"",
            2 => "{\"type\": \"ping\", \"nonce\": \"unterminated}",
            3 => "\"\\x\"",
            _ => "{'type': 'ping'}",
        };

        /// <summary>Any JSON value, as text; <paramref name="depth"/> bounds its nesting.</summary>
        private string RandomValue(int depth) => random.Next(depth >= 3 ? 4 : 7) switch
        {
            0 => Str(RandomString()),
            1 => random.Next(3) switch { 0 => "-0.5e-3", 1 => random.Next().ToString(System.Globalization.CultureInfo.InvariantCulture), _ => "1E400" },
            2 => random.Next(2) == 0 ? "true" : "false",
            3 => "null",
            4 or 5 => "[" + string.Join(", ", Enumerable.Range(0, random.Next(4)).Select(_ => RandomValue(depth + 1))) + "]",
            _ => "{" + string.Join(", ", Enumerable.Range(0, random.Next(4)).Select(_ => $"{Str(RandomString())}: {RandomValue(depth + 1)}")) + "}",
        };

        private string RandomString() => string.Concat(Enumerable.Range(0, random.Next(6)).Select(_ => Pick(Pieces)));

        private string Maybe(string value) => random.Next(3) == 0 ? "__omit__" : value;

        private string Pick(string[] items) => items[random.Next(items.Length)];

        private static string Str(string escapedContent) => $"\"{escapedContent}\"";

        private static string Object(params (string Name, string Value)[] fields) =>
            "{" + string.Join(", ", fields.Where(f => f.Value != "__omit__").Select(f => $"\"{f.Name}\": {f.Value}")) + "}";
    }
}
