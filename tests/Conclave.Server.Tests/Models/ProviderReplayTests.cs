using System.Diagnostics;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Models;

/// <summary>
/// Each provider's real client against a loopback replay of its documented wire format: the runtime must
/// see the same tokens, reasoning, tool calls and usage whichever provider it talks to.
/// </summary>
public sealed class ProviderReplayTests
{
    public static TheoryData<ProviderWire> Wires => [new OpenAIWire(), new OllamaWire(), new AnthropicWire()];

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task PlainAnswerStreamsTokensAndReportsUsage(ProviderWire wire)
    {
        await using var provider = await ReplayServer.StartAsync(Ok(wire, wire.Text(["Hel", "lo", " there"], 11, 3)));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal(["Hel", "lo", " there"], frames.Where(f => f.Type() == "token").Select(f => f.Str("content")));
        var final = frames[^1];
        Assert.Equal("final_answer", final.Type());
        Assert.Equal("Hello there", final.Str("content"));
        Assert.Equal(11, final.GetProperty("usage").GetProperty("input_tokens").GetInt64());
        Assert.Equal(3, final.GetProperty("usage").GetProperty("output_tokens").GetInt64());
        var request = Assert.Single(provider.Requests);
        Assert.Equal(ExpectedPath(wire), request.Path);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(wire.Settings(provider.BaseUri)["Conclave:Llm:Model"], body.RootElement.GetProperty("model").GetString());
        Assert.Contains("hi", request.Body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task ToolCallGoesThroughTheConfirmationGateAndItsResultBackToTheModel(ProviderWire wire)
    {
        await using var provider = await ReplayServer.StartAsync(
            Ok(wire, wire.ToolCall("call_1", "write_file", """{"path": "out.txt", "content": "hi"}""")),
            Ok(wire, wire.Text(["written"], 20, 1)));
        await using var server = await StartConclaveAsync(wire, provider);
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = "save hi to out.txt" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        Assert.Equal("write_file", request.Str("tool"));
        Assert.Equal("out.txt", request.GetProperty("arguments").Str("path"));
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        var end = frames.Single(f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.StartsWith("Wrote 2 bytes", end.Str("result"), StringComparison.Ordinal);
        Assert.Equal("written", frames[^1].Str("content"));
        Assert.Equal("hi", await File.ReadAllTextAsync(Path.Combine(server.DataDir, "workspaces", session, "out.txt")));
        var second = provider.Requests.ElementAt(1);
        Assert.Contains("Wrote 2 bytes to out.txt.", second.Body, StringComparison.Ordinal);
        Assert.Contains(wire is OllamaWire ? "write_file" : "call_1", second.Body, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task ReasoningArrivesAsThinking(ProviderWire wire)
    {
        await using var provider = await ReplayServer.StartAsync(Ok(wire, wire.Reasoning("weighing the options", "the answer")));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("think first");

        Assert.Equal("weighing the options", string.Concat(frames.Where(f => f.Type() == "thinking").Select(f => f.Str("content"))));
        Assert.True(frames.FindIndex(f => f.Type() == "thinking") < frames.FindIndex(f => f.Type() == "token"));
        Assert.Equal("the answer", frames[^1].Str("content"));
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task TooManyRequestsIsRetriedAfterRetryAfter(ProviderWire wire)
    {
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(429, "application/json", ["""{"error": {"message": "slow down"}}"""]) { Headers = { ["Retry-After"] = "1" } },
            Ok(wire, wire.Text(["fine"], 1, 1)));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal("fine", frames[^1].Str("content"));
        var requests = provider.Requests.ToList();
        Assert.Equal(2, requests.Count);
        var waited = requests[1].ReceivedAt - requests[0].ReceivedAt;
        Assert.True(waited >= TimeSpan.FromMilliseconds(900), $"retried after {waited.TotalMilliseconds:0} ms, not after Retry-After");
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task ServerErrorBeforeTheFirstTokenIsRetried(ProviderWire wire)
    {
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(500, "application/json", ["""{"error": {"message": "boom"}}"""]),
            Ok(wire, wire.Text(["recovered"], 1, 1)));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal("recovered", frames[^1].Str("content"));
        Assert.Equal(2, provider.Requests.Count);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task StreamThatBreaksAfterTokensEndsWithRetryableLlmErrorAndIsNotRetried(ProviderWire wire)
    {
        var chunks = wire.Text(["one", " two", " three", " four"], 5, 4);
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(200, wire.ContentType, chunks.Take(3).ToList()) { BreakAfterChunks = true },
            Ok(wire, wire.Text(["should not be asked"], 1, 1)));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Contains(frames, f => f.Type() == "token");
        Assert.Equal("error", frames[^1].Type());
        Assert.Equal("llm_error", frames[^1].Str("code"));
        Assert.True(frames[^1].GetProperty("retryable").GetBoolean());
        Assert.StartsWith($"The model failed: {wire.Name} at {EndpointOf(wire, provider)} broke off its answer: ", frames[^1].Str("message"), StringComparison.Ordinal);
        Assert.Single(provider.Requests);
    }

    public static TheoryData<ProviderWire, int> RefusedRequests => Statuses(401, 404);

    public static TheoryData<ProviderWire, int> TransientFailures => Statuses(429, 500);

    [Theory]
    [MemberData(nameof(RefusedRequests))]
    public async Task RefusedRequestEndsWithLlmErrorThatIsNotRetryableNamingProviderEndpointAndStatus(ProviderWire wire, int status)
    {
        var key = wire.Settings(new Uri("http://127.0.0.1/")).GetValueOrDefault("Conclave:Llm:ApiKey");
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(status, "application/json", [wire.Error($"Refused with the key {key ?? "(none)"}.")]));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        var error = frames[^1];
        Assert.Equal("llm_error", error.Str("code"));
        Assert.False(error.GetProperty("retryable").GetBoolean());
        var reason = status == 401 ? "Unauthorized" : "Not Found";
        Assert.Equal(
            $"The model failed: {wire.Name} at {EndpointOf(wire, provider)} answered {status} {reason}: Refused with the key {(key is null ? "(none)" : "***")}.",
            error.Str("message"));
        Assert.Single(provider.Requests);
    }

    [Theory]
    [MemberData(nameof(TransientFailures))]
    public async Task TransientFailureThatOutlastsTheRetriesEndsWithRetryableLlmErrorNamingTheStatus(ProviderWire wire, int status)
    {
        var failure = new ReplayResponse(status, "application/json", [wire.Error("try later")]);
        await using var provider = await ReplayServer.StartAsync(failure, failure);
        var settings = wire.Settings(provider.BaseUri);
        settings["Conclave:Llm:RetryBaseDelayMs"] = "10";
        settings["Conclave:Llm:MaxRetries"] = "1";
        await using var server = await ConclaveTestServer.StartAsync(settings);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        var error = frames[^1];
        Assert.Equal("llm_error", error.Str("code"));
        Assert.True(error.GetProperty("retryable").GetBoolean());
        var reason = status == 429 ? "Too Many Requests" : "Internal Server Error";
        Assert.Equal($"The model failed: {wire.Name} at {EndpointOf(wire, provider)} answered {status} {reason}: try later (2 attempts).", error.Str("message"));
        Assert.Equal(2, provider.Requests.Count);
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task CancelAbortsTheRequestInFlight(ProviderWire wire)
    {
        var chunks = wire.Text(["first", " second"], 5, 2);
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(200, wire.ContentType, chunks.Take(wire is AnthropicWire ? 3 : 1).ToList()) { HangAfterChunks = true });
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "hi" });
        await socket.ReceiveTypeAsync("token");

        var cancelled = DateTime.UtcNow;
        await socket.SendAsync(new { type = "cancel" });
        var frames = await socket.ReceiveRunEndAsync();
        var aborted = await Assert.Single(provider.Requests).Aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal("cancelled", frames[^1].Str("code"));
        Assert.True(aborted - cancelled < TimeSpan.FromSeconds(1), $"the provider saw the abort after {(aborted - cancelled).TotalMilliseconds:0} ms");
    }

    [Theory]
    [MemberData(nameof(Wires))]
    public async Task MalformedChunkEndsTheRunWithLlmError(ProviderWire wire)
    {
        var chunks = wire.Text(["fine so far"], 5, 2);
        await using var provider = await ReplayServer.StartAsync(
            new ReplayResponse(200, wire.ContentType, [.. chunks.Take(wire is AnthropicWire ? 3 : 1), wire.Malformed, .. chunks.Skip(wire is AnthropicWire ? 3 : 1)]));
        await using var server = await StartConclaveAsync(wire, provider);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("hi");

        Assert.Equal("error", frames[^1].Type());
        Assert.Equal("llm_error", frames[^1].Str("code"));
    }

    private static ReplayResponse Ok(ProviderWire wire, IReadOnlyList<string> chunks) => new(200, wire.ContentType, chunks);

    private static string EndpointOf(ProviderWire wire, ReplayServer provider) => wire.Settings(provider.BaseUri)["Conclave:Llm:Endpoint"]!;

    private static TheoryData<ProviderWire, int> Statuses(params int[] statuses)
    {
        var data = new TheoryData<ProviderWire, int>();
        foreach (var wire in new ProviderWire[] { new OpenAIWire(), new OllamaWire(), new AnthropicWire() })
        {
            foreach (var status in statuses)
            {
                data.Add(wire, status);
            }
        }

        return data;
    }

    private static string ExpectedPath(ProviderWire wire) => wire switch
    {
        OpenAIWire => "/v1/chat/completions",
        OllamaWire => "/api/chat",
        _ => "/v1/messages",
    };

    private static Task<ConclaveTestServer> StartConclaveAsync(ProviderWire wire, ReplayServer provider)
    {
        var settings = wire.Settings(provider.BaseUri);
        settings["Conclave:Llm:RetryBaseDelayMs"] = "10";

        // Each streamed piece its own event, as the tests expect: with merging on, pieces that reach the loop together
        // (the replay's chunks are only milliseconds apart) would go out as one delta, depending on the machine's load.
        settings["Conclave:Agent:MaxMergedDeltaChars"] = "0";
        return ConclaveTestServer.StartAsync(settings);
    }
}
