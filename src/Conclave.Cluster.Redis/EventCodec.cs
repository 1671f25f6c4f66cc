using System.Buffers.Binary;
using System.Text;
using Conclave.Agents.Events;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>
/// A session event as one binary message on the events channel: the sending instance (16 bytes), the event id (8),
/// then session, run and type as length-prefixed UTF-8 (the run's length -1 when it has none), then the event's JSON.
/// </summary>
internal static class EventCodec
{
    public static RedisValue Encode(SessionEvent sessionEvent, Guid from)
    {
        var sessionLength = Encoding.UTF8.GetByteCount(sessionEvent.SessionId);
        var runLength = sessionEvent.RunId is null ? 0 : Encoding.UTF8.GetByteCount(sessionEvent.RunId);
        var typeLength = Encoding.UTF8.GetByteCount(sessionEvent.Type);
        var message = new byte[16 + 8 + 4 + sessionLength + 4 + runLength + 4 + typeLength + sessionEvent.Utf8Json.Length];
        var span = message.AsSpan();
        from.TryWriteBytes(span);
        BinaryPrimitives.WriteInt64LittleEndian(span[16..], sessionEvent.EventId);
        var at = 24;
        at = WriteText(span, at, sessionEvent.SessionId, sessionLength);
        at = sessionEvent.RunId is null ? WriteLength(span, at, -1) : WriteText(span, at, sessionEvent.RunId, runLength);
        at = WriteText(span, at, sessionEvent.Type, typeLength);
        sessionEvent.Utf8Json.Span.CopyTo(span[at..]);
        return message;
    }

    /// <summary>Reads an event another instance sent; false for this instance's own, and for what is not an event.</summary>
    public static bool TryDecode(RedisValue message, Guid self, out SessionEvent sessionEvent)
    {
        sessionEvent = null!;
        var bytes = (byte[]?)message;
        if (bytes is null || bytes.Length < 24 + 12 || new Guid(bytes.AsSpan(0, 16)) == self)
        {
            return false;
        }

        var span = bytes.AsSpan();
        var eventId = BinaryPrimitives.ReadInt64LittleEndian(span[16..]);
        var at = 24;
        var sessionId = ReadText(span, ref at)!;
        var runId = ReadText(span, ref at);
        var type = ReadText(span, ref at)!;
        sessionEvent = new SessionEvent(sessionId, eventId, runId, type, bytes.AsMemory(at));
        return true;
    }

    private static int WriteText(Span<byte> span, int at, string text, int length)
    {
        at = WriteLength(span, at, length);
        return at + Encoding.UTF8.GetBytes(text, span[at..]);
    }

    private static int WriteLength(Span<byte> span, int at, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], length);
        return at + 4;
    }

    private static string? ReadText(ReadOnlySpan<byte> span, ref int at)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        if (length < 0)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(span.Slice(at, length));
        at += length;
        return text;
    }
}
