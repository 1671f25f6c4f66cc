using System.Buffers.Binary;
using System.Text;
using Conclave.Agents.Events;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>
/// Stored events as one binary message on the events channel: the sending instance (16 bytes) and the number of events
/// (4), then per event its id (8), session, run and type as length-prefixed UTF-8 (the run's length -1 when it has
/// none), and its JSON, length-prefixed. One message carries a whole stored batch, so Redis and every instance handle
/// a message per batch, not per token.
/// </summary>
internal static class EventCodec
{
    private const int HeaderLength = 16 + 4;

    public static RedisValue Encode(IReadOnlyList<SessionEvent> events, Guid from)
    {
        var length = HeaderLength;
        foreach (var e in events)
        {
            length += 8 + 4 + Encoding.UTF8.GetByteCount(e.SessionId) + 4 + (e.RunId is null ? 0 : Encoding.UTF8.GetByteCount(e.RunId))
                + 4 + Encoding.UTF8.GetByteCount(e.Type) + 4 + e.Utf8Json.Length;
        }

        var message = new byte[length];
        var span = message.AsSpan();
        from.TryWriteBytes(span);
        BinaryPrimitives.WriteInt32LittleEndian(span[16..], events.Count);
        var at = HeaderLength;
        foreach (var e in events)
        {
            BinaryPrimitives.WriteInt64LittleEndian(span[at..], e.EventId);
            at = WriteText(span, at + 8, e.SessionId);
            at = e.RunId is null ? WriteLength(span, at, -1) : WriteText(span, at, e.RunId);
            at = WriteText(span, at, e.Type);
            at = WriteLength(span, at, e.Utf8Json.Length);
            e.Utf8Json.Span.CopyTo(span[at..]);
            at += e.Utf8Json.Length;
        }

        return message;
    }

    /// <summary>
    /// The events another instance sent, in the order sent; none for this instance's own (told by the first 16 bytes,
    /// before anything is copied), and none for what is not a message of this codec.
    /// </summary>
    public static IReadOnlyList<SessionEvent> Decode(RedisValue message, Guid self)
    {
        var received = (ReadOnlyMemory<byte>)message;
        if (received.Length < HeaderLength || new Guid(received.Span[..16]) == self)
        {
            return [];
        }

        try
        {
            // The events' JSON are slices of one copy, which they keep alive.
            var bytes = received.ToArray();
            var span = bytes.AsSpan();
            var count = BinaryPrimitives.ReadInt32LittleEndian(span[16..]);
            var events = new List<SessionEvent>(Math.Clamp(count, 0, 10_000));
            var at = HeaderLength;
            for (var i = 0; i < count; i++)
            {
                var eventId = BinaryPrimitives.ReadInt64LittleEndian(span[at..]);
                at += 8;
                var sessionId = ReadText(span, ref at)!;
                var runId = ReadText(span, ref at);
                var type = ReadText(span, ref at)!;
                var jsonLength = ReadLength(span, ref at);
                events.Add(new SessionEvent(sessionId, eventId, runId, type, bytes.AsMemory(at, jsonLength)));
                at += jsonLength;
            }

            return events;
        }
        catch (ArgumentOutOfRangeException)
        {
            // Cut short, or not ours: a reader that misses events reads them from the store.
            return [];
        }
    }

    private static int WriteText(Span<byte> span, int at, string text)
    {
        var length = Encoding.UTF8.GetBytes(text, span[(at + 4)..]);
        WriteLength(span, at, length);
        return at + 4 + length;
    }

    private static int WriteLength(Span<byte> span, int at, int length)
    {
        BinaryPrimitives.WriteInt32LittleEndian(span[at..], length);
        return at + 4;
    }

    private static int ReadLength(ReadOnlySpan<byte> span, ref int at)
    {
        var length = BinaryPrimitives.ReadInt32LittleEndian(span[at..]);
        at += 4;
        return length;
    }

    private static string? ReadText(ReadOnlySpan<byte> span, ref int at)
    {
        var length = ReadLength(span, ref at);
        if (length < 0)
        {
            return null;
        }

        var text = Encoding.UTF8.GetString(span.Slice(at, length));
        at += length;
        return text;
    }
}
