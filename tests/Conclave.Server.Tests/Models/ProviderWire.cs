using System.Text.Json;

namespace Conclave.Server.Tests.Models;

/// <summary>How one provider writes its streamed answers on the wire, as its API documentation shows.</summary>
public abstract class ProviderWire
{
    public abstract string Name { get; }

    public abstract string ContentType { get; }

    /// <summary>The settings that point Conclave at the replay server.</summary>
    public abstract Dictionary<string, string?> Settings(Uri endpoint);

    public abstract IReadOnlyList<string> Text(IReadOnlyList<string> tokens, int inputTokens, int outputTokens);

    public abstract IReadOnlyList<string> ToolCall(string callId, string tool, string argumentsJson);

    public abstract IReadOnlyList<string> Reasoning(string thought, string answer);

    /// <summary>A chunk the client cannot parse.</summary>
    public abstract string Malformed { get; }

    /// <summary>An error answer's JSON body, as the provider writes it.</summary>
    public abstract string Error(string message);

    /// <summary>The path of the provider's cheapest read, which <c>/readyz</c> probes.</summary>
    public abstract string ProbePath { get; }

    public override string ToString() => Name;

    protected static string Json(object value) => JsonSerializer.Serialize(value);

    /// <summary>Splits a JSON text in three, as providers stream tool arguments.</summary>
    protected static IEnumerable<string> Pieces(string json)
    {
        var third = Math.Max(1, json.Length / 3);
        yield return json[..third];
        yield return json[third..(2 * third)];
        yield return json[(2 * third)..];
    }
}

/// <summary>OpenAI chat completions, <c>stream: true</c>: <c>data:</c> lines of <c>chat.completion.chunk</c>, then <c>[DONE]</c>.</summary>
public sealed class OpenAIWire : ProviderWire
{
    public override string Name => "openai";

    public override string ContentType => "text/event-stream";

    public override string Malformed => "data: {\"id\": \"c1\", \"choices\": [{\"delta\": \n\n";

    public override string ProbePath => "/v1/models";

    public override string Error(string message) => Json(new { error = new { message, type = "invalid_request_error", param = (string?)null, code = "error" } });

    public override Dictionary<string, string?> Settings(Uri endpoint) => new()
    {
        ["Conclave:Llm:Provider"] = "openai",
        ["Conclave:Llm:Model"] = "gpt-test",
        ["Conclave:Llm:Endpoint"] = new Uri(endpoint, "/v1/").ToString(),
        ["Conclave:Llm:ApiKey"] = "sk-test",
    };

    public override IReadOnlyList<string> Text(IReadOnlyList<string> tokens, int inputTokens, int outputTokens) =>
    [
        .. tokens.Select((t, i) => Chunk(i == 0 ? new { role = "assistant", content = t } : (object)new { content = t }, null)),
        Chunk(new { }, "stop"),
        Event(new { id = "c1", @object = "chat.completion.chunk", created = 1, model = "gpt-test", choices = Array.Empty<object>(),
            usage = new { prompt_tokens = inputTokens, completion_tokens = outputTokens, total_tokens = inputTokens + outputTokens } }),
        "data: [DONE]\n\n",
    ];

    public override IReadOnlyList<string> ToolCall(string callId, string tool, string argumentsJson) =>
    [
        Chunk(new { role = "assistant", tool_calls = new[] { new { index = 0, id = callId, type = "function", function = new { name = tool, arguments = "" } } } }, null),
        .. Pieces(argumentsJson).Select(p => Chunk(new { tool_calls = new[] { new { index = 0, function = new { arguments = p } } } }, null)),
        Chunk(new { }, "tool_calls"),
        "data: [DONE]\n\n",
    ];

    public override IReadOnlyList<string> Reasoning(string thought, string answer) =>
    [
        Chunk(new { role = "assistant", reasoning_content = thought }, null),
        Chunk(new { content = answer }, null),
        Chunk(new { }, "stop"),
        "data: [DONE]\n\n",
    ];

    private static string Chunk(object delta, string? finishReason) =>
        Event(new { id = "c1", @object = "chat.completion.chunk", created = 1, model = "gpt-test",
            choices = new[] { new { index = 0, delta, finish_reason = finishReason } } });

    private static string Event(object data) => $"data: {Json(data)}\n\n";
}

/// <summary>Ollama <c>/api/chat</c>: one JSON object per line, the last with <c>done: true</c> and the counts.</summary>
public sealed class OllamaWire : ProviderWire
{
    public override string Name => "ollama";

    public override string ContentType => "application/x-ndjson";

    public override string Malformed => "{\"model\": \"llama-test\", \"message\": {\"role\": \n";

    public override string ProbePath => "/api/version";

    public override string Error(string message) => Json(new { error = message });

    public override Dictionary<string, string?> Settings(Uri endpoint) => new()
    {
        ["Conclave:Llm:Provider"] = "ollama",
        ["Conclave:Llm:Model"] = "llama-test",
        ["Conclave:Llm:Endpoint"] = endpoint.ToString(),
    };

    public override IReadOnlyList<string> Text(IReadOnlyList<string> tokens, int inputTokens, int outputTokens) =>
    [
        .. tokens.Select(t => Line(new { role = "assistant", content = t }, false)),
        Json(new { model = "llama-test", created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = "" }, done = true,
            done_reason = "stop", total_duration = 1, prompt_eval_count = inputTokens, eval_count = outputTokens }) + "\n",
    ];

    public override IReadOnlyList<string> ToolCall(string callId, string tool, string argumentsJson) =>
    [
        Line(new { role = "assistant", content = "", tool_calls = new[] { new { function = new { name = tool, arguments = JsonDocument.Parse(argumentsJson).RootElement } } } }, false),
        Json(new { model = "llama-test", created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = "" }, done = true,
            done_reason = "stop", prompt_eval_count = 5, eval_count = 5 }) + "\n",
    ];

    public override IReadOnlyList<string> Reasoning(string thought, string answer) =>
    [
        Line(new { role = "assistant", content = "", thinking = thought }, false),
        Line(new { role = "assistant", content = answer }, false),
        Json(new { model = "llama-test", created_at = "2026-01-01T00:00:00Z", message = new { role = "assistant", content = "" }, done = true, done_reason = "stop" }) + "\n",
    ];

    private static string Line(object message, bool done) =>
        Json(new { model = "llama-test", created_at = "2026-01-01T00:00:00Z", message, done }) + "\n";
}

/// <summary>Anthropic messages, <c>stream: true</c>: <c>message_start</c>, content blocks, <c>message_delta</c>, <c>message_stop</c>.</summary>
public sealed class AnthropicWire : ProviderWire
{
    public override string Name => "anthropic";

    public override string ContentType => "text/event-stream";

    public override string Malformed => "event: content_block_delta\ndata: {\"type\": \"content_block_delta\", \"index\": \n\n";

    public override string ProbePath => "/v1/models";

    public override string Error(string message) => Json(new { type = "error", error = new { type = "api_error", message } });

    public override Dictionary<string, string?> Settings(Uri endpoint) => new()
    {
        ["Conclave:Llm:Provider"] = "anthropic",
        ["Conclave:Llm:Model"] = "claude-test",
        ["Conclave:Llm:Endpoint"] = endpoint.ToString(),
        ["Conclave:Llm:ApiKey"] = "sk-ant-test",
    };

    public override IReadOnlyList<string> Text(IReadOnlyList<string> tokens, int inputTokens, int outputTokens) =>
    [
        Start(inputTokens),
        Event("content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "text", text = "" } }),
        .. tokens.Select(t => Event("content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "text_delta", text = t } })),
        Event("content_block_stop", new { type = "content_block_stop", index = 0 }),
        End("end_turn", outputTokens),
    ];

    public override IReadOnlyList<string> ToolCall(string callId, string tool, string argumentsJson) =>
    [
        Start(5),
        Event("content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "tool_use", id = callId, name = tool, input = new { } } }),
        .. Pieces(argumentsJson).Select(p => Event("content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "input_json_delta", partial_json = p } })),
        Event("content_block_stop", new { type = "content_block_stop", index = 0 }),
        End("tool_use", 5),
    ];

    public override IReadOnlyList<string> Reasoning(string thought, string answer) =>
    [
        Start(5),
        Event("content_block_start", new { type = "content_block_start", index = 0, content_block = new { type = "thinking", thinking = "" } }),
        Event("content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "thinking_delta", thinking = thought } }),
        Event("content_block_delta", new { type = "content_block_delta", index = 0, delta = new { type = "signature_delta", signature = "c2ln" } }),
        Event("content_block_stop", new { type = "content_block_stop", index = 0 }),
        Event("content_block_start", new { type = "content_block_start", index = 1, content_block = new { type = "text", text = "" } }),
        Event("content_block_delta", new { type = "content_block_delta", index = 1, delta = new { type = "text_delta", text = answer } }),
        Event("content_block_stop", new { type = "content_block_stop", index = 1 }),
        End("end_turn", 5),
    ];

    private static string Start(int inputTokens) => Event("message_start", new
    {
        type = "message_start",
        message = new { id = "msg_1", type = "message", role = "assistant", model = "claude-test", content = Array.Empty<object>(),
            stop_reason = (string?)null, stop_sequence = (string?)null, usage = new { input_tokens = inputTokens, output_tokens = 1 } },
    });

    private static string End(string stopReason, int outputTokens) =>
        Event("message_delta", new { type = "message_delta", delta = new { stop_reason = stopReason, stop_sequence = (string?)null }, usage = new { output_tokens = outputTokens } })
        + Event("message_stop", new { type = "message_stop" });

    private static string Event(string name, object data) => $"event: {name}\ndata: {Json(data)}\n\n";
}
