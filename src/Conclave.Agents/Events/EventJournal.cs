using System.Buffers.Binary;
using System.Globalization;
using System.IO.Hashing;
using System.IO.MemoryMappedFiles;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Events;

/// <summary>
/// The write-ahead file of the event log. The event writer hands every event to <see cref="Append"/> before any client
/// can see it, and the store catches up behind, marking its progress with <see cref="MarkStored"/>. So an event a client
/// received outlives the process, even one killed with <c>kill -9</c>: <see cref="RestoreAsync"/> stores it at the next
/// start.
/// </summary>
/// <remarks>
/// Files are <c>NNNNNNNNNNNN.journal</c> segments in <see cref="EventWriterOptions.JournalPath"/>, of
/// <see cref="SegmentBytes"/> each (or one event's size, when that is larger), allocated on the disk when created and
/// mapped into memory: an append is a copy into the operating system's page cache, no system call, and the page cache
/// outlives the process. The journal survives the process, not the machine: like SQLite with <c>synchronous=NORMAL</c>,
/// nothing is synced to the disk one write at a time. A segment stays mapped until a later stored mark covers it; then
/// the first such is zeroed and kept, mapped, as the next segment (renamed when it becomes that), and the others are
/// deleted: a relay then maps, faults in and unmaps no new pages.
/// A record is <c>[body length: u32][CRC-32 of body: u32][body]</c>; a body is an event,
/// <c>[1][session][event id: i64][run][type][JSON]</c> with each string as <c>[UTF-8 length: u16][UTF-8]</c> (a run of
/// length 0xFFFF is none), or a stored mark, <c>[2][segment: i64][offset: i64]</c>: every event written before that
/// place is stored. The rest of a segment is zeros, where reading stops. The event writer serializes
/// <see cref="Append"/> and <see cref="MarkStored"/> under one lock of its own, for its order; the journal's own lock
/// keeps <see cref="Dispose"/> from unmapping a segment under a write.
/// </remarks>
public sealed partial class EventJournal : IDisposable
{
    /// <summary>The size of a segment.</summary>
    public const int SegmentBytes = 8 * 1024 * 1024;

    private const string Extension = ".journal";
    private const int HeaderBytes = 8;
    private const byte EventRecord = 1;
    private const byte StoredMark = 2;
    private const int MarkBytes = HeaderBytes + 1 + (2 * sizeof(long));
    private const ushort NoRun = ushort.MaxValue;

    private readonly string _directory;
    private readonly ILogger<EventJournal> _logger;
    private readonly Queue<(long Index, Segment Segment)> _full = new();
    private readonly long _firstOwnIndex;
    private readonly Lock _lock = new();
    private Segment? _segment;

    // A stored segment, zeroed, kept mapped to be the next one.
    private Segment? _spare;
    private bool _disposed;
    private long _segmentIndex;

    /// <summary>Opens the journal folder; segments found there are a previous process's, for <see cref="RestoreAsync"/>.</summary>
    public EventJournal(IOptions<EventWriterOptions> options, ILogger<EventJournal> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _directory = Directory.CreateDirectory(options.Value.JournalPath).FullName;
        _logger = logger;
        _firstOwnIndex = Segments().Select(s => s.Index).DefaultIfEmpty(0).Max() + 1;
        _segmentIndex = _firstOwnIndex - 1;
    }

    /// <summary>
    /// Writes an event and returns the place just past it, for <see cref="MarkStored"/> once the store holds it. When it
    /// returns, the event outlives the process.
    /// </summary>
    public JournalPosition Append(SessionEvent sessionEvent)
    {
        ArgumentNullException.ThrowIfNull(sessionEvent);
        var json = sessionEvent.Utf8Json.Span;
        var length = HeaderBytes + 1 + StringBytes(sessionEvent.SessionId) + sizeof(long) + StringBytes(sessionEvent.RunId)
            + StringBytes(sessionEvent.Type) + json.Length;
        lock (_lock)
        {
            // Written in place, in the mapped segment.
            var record = Reserve(length);
            var body = record[HeaderBytes..];
            body[0] = EventRecord;
            var at = 1 + WriteString(body[1..], sessionEvent.SessionId);
            BinaryPrimitives.WriteInt64LittleEndian(body[at..], sessionEvent.EventId);
            at += sizeof(long);
            at += WriteString(body[at..], sessionEvent.RunId);
            at += WriteString(body[at..], sessionEvent.Type);
            json.CopyTo(body[at..]);
            return Seal(record);
        }
    }

    /// <summary>
    /// Records that the store holds every event written before <paramref name="position"/>, and deletes the segments
    /// wholly before it.
    /// </summary>
    public void MarkStored(JournalPosition position)
    {
        lock (_lock)
        {
            var record = Reserve(MarkBytes);
            var body = record[HeaderBytes..];
            body[0] = StoredMark;
            BinaryPrimitives.WriteInt64LittleEndian(body[1..], position.Segment);
            BinaryPrimitives.WriteInt64LittleEndian(body[(1 + sizeof(long))..], position.Offset);
            Seal(record);
            while (_full.TryPeek(out var full) && full.Index < position.Segment)
            {
                if (_spare is null && full.Segment.Size == SegmentBytes)
                {
                    // Zeroed before anything else: a restart finds no stored event in it, whatever its name by then.
                    full.Segment.Clear();
                    _spare = full.Segment;
                }
                else
                {
                    // Taken off the list once gone: one that cannot be deleted now is tried again at the next mark.
                    File.Delete(full.Segment.Path);
                    full.Segment.Dispose();
                }

                _full.Dequeue();
            }
        }
    }

    /// <summary>
    /// Stores the events a previous process wrote after its last stored mark that the store does not hold (a session's
    /// stored events are always its first ones: those past its newest stored id), then deletes that process's segments.
    /// Call once, at start, before anything is appended. Returns how many events it stored.
    /// </summary>
    public async Task<int> RestoreAsync(IEventStore store, int batchSize, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var previous = Segments().Where(s => s.Index < _firstOwnIndex).OrderBy(s => s.Index).ToList();

        // Each segment read once; its records are in order, and the last stored mark says where to begin.
        var records = new List<Record>();
        foreach (var (index, path) in previous)
        {
            records.AddRange(Records(index, await File.ReadAllBytesAsync(path, cancellationToken), path));
        }

        var storedBefore = records.Select(r => r.StoredBefore).OfType<JournalPosition>().DefaultIfEmpty(new JournalPosition(0, 0)).Max();
        var restored = 0;
        var storedUpTo = new Dictionary<string, long>(StringComparer.Ordinal);
        var batch = new List<SessionEvent>(batchSize);
        foreach (var record in records)
        {
            if (record.Event is not { } sessionEvent || record.End.CompareTo(storedBefore) <= 0)
            {
                continue;
            }

            if (!storedUpTo.TryGetValue(sessionEvent.SessionId, out var upTo))
            {
                upTo = await store.GetLastEventIdAsync(sessionEvent.SessionId, cancellationToken);
            }

            if (sessionEvent.EventId > upTo)
            {
                batch.Add(sessionEvent);
                upTo = sessionEvent.EventId;
            }

            storedUpTo[sessionEvent.SessionId] = upTo;
            if (batch.Count >= batchSize)
            {
                restored += await StoreAsync(store, batch, cancellationToken);
            }
        }

        restored += await StoreAsync(store, batch, cancellationToken);
        foreach (var (_, path) in previous)
        {
            File.Delete(path);
        }

        if (restored > 0)
        {
            LogRestored(restored);
        }

        return restored;
    }

    /// <inheritdoc />
    public void Dispose()
    {
        lock (_lock)
        {
            _disposed = true;
            _segment?.Dispose();
            _segment = null;
            _spare?.Dispose();
            _spare = null;
            while (_full.TryDequeue(out var full))
            {
                full.Segment.Dispose();
            }
        }
    }

    private static async Task<int> StoreAsync(IEventStore store, List<SessionEvent> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
        {
            return 0;
        }

        await store.AppendAsync(batch.ToArray(), cancellationToken);
        var count = batch.Count;
        batch.Clear();
        return count;
    }

    /// <summary>The room for a record of <paramref name="length"/> bytes after the last one, in a new segment if need be.</summary>
    private Span<byte> Reserve(int length)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_segment is null || !_segment.Fits(length))
        {
            StartSegment(length);
        }

        return _segment!.Reserve(length);
    }

    /// <summary>Writes the record's length and checksum (its body is in place), and returns the place just past it.</summary>
    private JournalPosition Seal(Span<byte> record)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(record, (uint)(record.Length - HeaderBytes));
        BinaryPrimitives.WriteUInt32LittleEndian(record[4..], Crc32.HashToUInt32(record[HeaderBytes..]));
        return new JournalPosition(_segmentIndex, _segment!.Advance(record.Length));
    }

    private void StartSegment(int firstRecord)
    {
        if (_segment is not null)
        {
            _full.Enqueue((_segmentIndex, _segment));
        }

        _segmentIndex++;
        _segment = null;
        if (_spare is not null && firstRecord <= SegmentBytes)
        {
            _spare.Reuse(PathOf(_segmentIndex));
            (_segment, _spare) = (_spare, null);
        }
        else
        {
            _segment = new Segment(PathOf(_segmentIndex), Math.Max(SegmentBytes, firstRecord));
        }
    }

    private string PathOf(long index) => Path.Combine(_directory, index.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    private IEnumerable<(long Index, string Path)> Segments()
    {
        foreach (var path in Directory.EnumerateFiles(_directory, "*" + Extension))
        {
            if (long.TryParse(Path.GetFileNameWithoutExtension(path), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
            {
                yield return (index, path);
            }
        }
    }

    /// <summary>The whole records of a segment, in order; <paramref name="path"/> names it in the log if it ends in a torn one.</summary>
    private IEnumerable<Record> Records(long index, byte[] bytes, string path)
    {
        var offset = 0;
        while (TryReadBody(bytes, offset, out var bodyLength))
        {
            var body = bytes.AsMemory(offset + HeaderBytes, bodyLength);
            offset += HeaderBytes + bodyLength;
            var end = new JournalPosition(index, offset);
            yield return body.Span[0] == StoredMark
                ? new Record(end, null, new JournalPosition(
                    BinaryPrimitives.ReadInt64LittleEndian(body.Span[1..]), BinaryPrimitives.ReadInt64LittleEndian(body.Span[(1 + sizeof(long))..])))
                : new Record(end, ReadEvent(body.Span[1..]), null);
        }

        if (bytes.AsSpan(offset).ContainsAnyExcept((byte)0))
        {
            // The previous process died inside a write: what it was writing was never published.
            LogTornTail(Path.GetFileName(path), bytes.Length - offset);
        }
    }

    private static bool TryReadBody(byte[] bytes, int offset, out int bodyLength)
    {
        bodyLength = 0;
        if (bytes.Length - offset < HeaderBytes)
        {
            return false;
        }

        var header = bytes.AsSpan(offset, HeaderBytes);
        var length = BinaryPrimitives.ReadUInt32LittleEndian(header);
        if (length == 0 || length > bytes.Length - offset - HeaderBytes)
        {
            return false;
        }

        bodyLength = (int)length;
        return Crc32.HashToUInt32(bytes.AsSpan(offset + HeaderBytes, bodyLength)) == BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
    }

    private static SessionEvent ReadEvent(ReadOnlySpan<byte> body)
    {
        var at = 0;
        var sessionId = ReadString(body, ref at)!;
        var eventId = BinaryPrimitives.ReadInt64LittleEndian(body[at..]);
        at += sizeof(long);
        var runId = ReadString(body, ref at);
        var type = ReadString(body, ref at)!;
        return new SessionEvent(sessionId, eventId, runId, type, body[at..].ToArray());
    }

    private static int StringBytes(string? value) => sizeof(ushort) + (value is null ? 0 : Encoding.UTF8.GetByteCount(value));

    private static int WriteString(Span<byte> destination, string? value)
    {
        if (value is null)
        {
            BinaryPrimitives.WriteUInt16LittleEndian(destination, NoRun);
            return sizeof(ushort);
        }

        var length = Encoding.UTF8.GetBytes(value, destination[sizeof(ushort)..]);
        if (length >= NoRun)
        {
            throw new ArgumentException($"An id of {length} bytes is longer than the journal keeps ({NoRun - 1}).", nameof(value));
        }

        BinaryPrimitives.WriteUInt16LittleEndian(destination, (ushort)length);
        return sizeof(ushort) + length;
    }

    private static string? ReadString(ReadOnlySpan<byte> body, ref int at)
    {
        var length = BinaryPrimitives.ReadUInt16LittleEndian(body[at..]);
        at += sizeof(ushort);
        if (length == NoRun)
        {
            return null;
        }

        var value = Encoding.UTF8.GetString(body.Slice(at, length));
        at += length;
        return value;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stored {Count} events from the journal that the previous process had published but not stored")]
    private partial void LogRestored(int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Journal segment {Segment} ends in {Bytes} bytes of a write the previous process did not finish; they were never published and are dropped")]
    private partial void LogTornTail(string segment, int bytes);

    private readonly record struct Record(JournalPosition End, SessionEvent? Event, JournalPosition? StoredBefore);

    /// <summary>
    /// A segment file, its whole size allocated on the disk up front (a full disk fails here, not in a copy into the
    /// mapping), and mapped into memory whole from then until it is deleted (through its writes, until its events are
    /// stored, and while it waits, cleared, to be the next segment).
    /// </summary>
    private sealed unsafe partial class Segment : IDisposable
    {
        private readonly FileStream _file;
        private readonly MemoryMappedFile _map;
        private readonly MemoryMappedViewAccessor _view;
        private readonly byte* _start;
        private readonly long _size;
        private long _length;

        public Segment(string path, long size)
        {
            Path = path;
            _size = size;
            _file = new FileStream(path, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.ReadWrite,
                Share = FileShare.Read,
                PreallocationSize = size,
            });
            try
            {
                _file.SetLength(size);
                _map = MemoryMappedFile.CreateFromFile(_file, null, size, MemoryMappedFileAccess.ReadWrite, HandleInheritability.None, leaveOpen: true);
                _view = _map.CreateViewAccessor(0, size, MemoryMappedFileAccess.ReadWrite);
                _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _start);
                Populate(_start, _view.SafeMemoryMappedViewHandle.ByteLength);
                _start += _view.PointerOffset;
            }
            catch
            {
                _view?.Dispose();
                _map?.Dispose();
                _file.Dispose();
                throw;
            }
        }

        public string Path { get; private set; }

        public long Size => _size;

        public bool Fits(int length) => _length + length <= _size;

        /// <summary>Zeroes what was written: reading the segment finds nothing.</summary>
        public void Clear() => new Span<byte>(_start, (int)_length).Clear();

        /// <summary>Takes the segment, cleared, as the one at <paramref name="path"/>, written from its start.</summary>
        public void Reuse(string path)
        {
            File.Move(Path, path);
            Path = path;
            _length = 0;
        }

        /// <summary>
        /// Has Linux map every page of the segment now, in one call (<c>MADV_POPULATE_WRITE</c>), instead of one page
        /// fault per page as appends reach it: on a virtual machine a fault is a trip through the hypervisor, and a
        /// segment is two thousand pages. Elsewhere, or on a kernel older than 5.14, pages are mapped as they are written.
        /// </summary>
        private static void Populate(byte* start, ulong length)
        {
            const int MadvPopulateWrite = 23;
            if (OperatingSystem.IsLinux())
            {
                _ = Madvise(start, (nuint)length, MadvPopulateWrite);
            }
        }

        [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "madvise")]
        private static partial int Madvise(byte* address, nuint length, int advice);

        public Span<byte> Reserve(int length) => new(_start + _length, length);

        /// <summary>Takes a record written into the reserved room; returns the offset just past it.</summary>
        public long Advance(int length) => _length += length;

        public void Dispose()
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map.Dispose();
            _file.Dispose();
        }
    }
}

/// <summary>A place in the journal: a segment and a byte offset in it.</summary>
/// <param name="Segment">The segment's index.</param>
/// <param name="Offset">The byte offset in that segment.</param>
public readonly record struct JournalPosition(long Segment, long Offset) : IComparable<JournalPosition>
{
    /// <inheritdoc />
    public int CompareTo(JournalPosition other) =>
        Segment != other.Segment ? Segment.CompareTo(other.Segment) : Offset.CompareTo(other.Offset);
}

