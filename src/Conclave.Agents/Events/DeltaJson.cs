using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Conclave.Agents.Events;

/// <summary>
/// Writes the two events a model streams, <c>token</c> and <c>thinking</c>, straight with a reused
/// <see cref="Utf8JsonWriter"/>: the same bytes as <see cref="ProtocolJsonContext.Wire"/> writes (a test holds the two
/// to it), without the polymorphic serializer's per-event work. Every other event goes through the serializer.
/// </summary>
internal static class DeltaJson
{
    private static readonly JsonWriterOptions Options = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    [ThreadStatic]
    private static Cache? t_cache;

    /// <summary>
    /// The event as its JSON object, or null when it is not a delta event. A run appends its deltas as text
    /// (<see cref="PendingEvent.Token"/>), so this path is for delta events made as objects.
    /// </summary>
    public static byte[]? TryWrite(AgentEvent agentEvent) => agentEvent switch
    {
        TokenEvent token => Write(token.Type, token.EventId, token.Ts, token.RunId, token.Content),
        ThinkingEvent thinking => Write(thinking.Type, thinking.EventId, thinking.Ts, thinking.RunId, thinking.Content),
        _ => null,
    };

    /// <summary>A delta event of <paramref name="type"/> as its JSON object.</summary>
    public static byte[] Write(string type, long eventId, DateTime ts, string? runId, string content)
    {
        var cache = t_cache ??= new Cache();
        cache.Buffer.ResetWrittenCount();
        var json = cache.Writer;
        json.Reset(cache.Buffer);
        json.WriteStartObject();
        json.WriteString(Names.Type, type);
        json.WriteNumber(Names.EventId, eventId);
        json.WriteString(Names.Ts, ts);
        if (runId is not null)
        {
            json.WriteString(Names.RunId, runId);
        }

        json.WriteString(Names.Content, content);
        json.WriteEndObject();
        json.Flush();
        return cache.Buffer.WrittenSpan.ToArray();
    }

    private sealed class Cache
    {
        public ArrayBufferWriter<byte> Buffer { get; } = new(256);

        public Utf8JsonWriter Writer { get; } = new(Stream.Null, Options);
    }

    private static class Names
    {
        public static readonly JsonEncodedText Type = JsonEncodedText.Encode("type");
        public static readonly JsonEncodedText EventId = JsonEncodedText.Encode("event_id");
        public static readonly JsonEncodedText Ts = JsonEncodedText.Encode("ts");
        public static readonly JsonEncodedText RunId = JsonEncodedText.Encode("run_id");
        public static readonly JsonEncodedText Content = JsonEncodedText.Encode("content");
    }
}
