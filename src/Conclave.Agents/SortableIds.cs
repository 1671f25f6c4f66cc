using System.Buffers.Binary;

namespace Conclave.Agents;

/// <summary>
/// Ids that sort in the order they were made in this process: UUID version 7 (milliseconds since the epoch, then random
/// bits), formatted as 32 hex digits. <see cref="Guid.CreateVersion7()"/> alone orders ids only by their millisecond; two
/// made in the same one compare at random. Here an id that would not sort after the previous one is the previous one
/// plus one, so lists ordered by id (sessions, newest first) keep creation order.
/// </summary>
public static class SortableIds
{
    private static readonly Lock Gate = new();
    private static UInt128 _last;

    /// <summary>A new id, after every id this process made before it.</summary>
    public static string New()
    {
        Span<byte> bytes = stackalloc byte[16];
        Guid.CreateVersion7().TryWriteBytes(bytes, bigEndian: true, out _);
        var value = BinaryPrimitives.ReadUInt128BigEndian(bytes);
        lock (Gate)
        {
            _last = value > _last ? value : _last + 1;
            value = _last;
        }

        BinaryPrimitives.WriteUInt128BigEndian(bytes, value);
        return new Guid(bytes, bigEndian: true).ToString("N");
    }

    /// <summary><see cref="New()"/> after <paramref name="prefix"/>, such as <c>run_</c>.</summary>
    public static string New(string prefix) => prefix + New();
}
