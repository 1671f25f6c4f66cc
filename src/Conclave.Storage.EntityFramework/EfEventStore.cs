using System.Buffers;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>
/// The event log in the database. Appends are the hot path (a row per token, were each event its own row): so
/// consecutive events of one run and type in a batch share a row, whose payload is the JSON array of them, and each
/// provider writes a batch's rows its own fastest way (<see cref="WriteRowsAsync"/>). Reads go through EF Core and
/// split such rows back into events.
/// </summary>
internal abstract class EfEventStore(IDbContextFactory<ConclaveDbContext> contexts) : IEventStore
{
    /// <summary>The most events one row holds; reads rely on it to find the row holding an id by the primary key.</summary>
    internal const int MaxEventsPerRow = 1_024;

    // A row grows past this only by its first event.
    private const int MaxBytesPerRow = 256 * 1024;

    // The sessions of the batch being regrouped, numbered: one a thread, emptied after each use (regrouping does not
    // await), so that it is not made again, growing to a thousand entries, for every batch of a thousand streams.
    [ThreadStatic]
    private static Dictionary<string, int>? t_sessionNumbers;

    protected IDbContextFactory<ConclaveDbContext> Contexts => contexts;

    public async Task AppendAsync(IReadOnlyList<SessionEvent> batch, CancellationToken cancellationToken = default)
    {
        var events = BySession(batch, out var rented);
        try
        {
            await WriteRowsAsync(events, RowsOf(events), cancellationToken);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<SessionEvent>.Shared.Return(rented, clearArray: true);
            }
        }
    }

    /// <summary>
    /// Writes one batch in one transaction: a row per range of <paramref name="rows"/>, each range consecutive events of
    /// <paramref name="events"/> (one session, run and type): session, first and last event id, run, type, the payload
    /// (<see cref="Payload"/>) and the time it was stored.
    /// </summary>
    protected abstract Task WriteRowsAsync(IReadOnlyList<SessionEvent> events, List<Range> rows, CancellationToken cancellationToken);

    /// <summary>
    /// The payload of a row: an event's own JSON when it is alone, else the JSON array of them, joined in
    /// <paramref name="scratch"/> (and so valid until its next use).
    /// </summary>
    protected static ReadOnlyMemory<byte> Payload(IReadOnlyList<SessionEvent> events, Range row, ArrayBufferWriter<byte> scratch)
    {
        var (offset, count) = row.GetOffsetAndLength(events.Count);
        if (count == 1)
        {
            return events[offset].Utf8Json;
        }

        scratch.ResetWrittenCount();
        for (var i = offset; i < offset + count; i++)
        {
            scratch.Write(i == offset ? "["u8 : ","u8);
            scratch.Write(events[i].Utf8Json.Span);
        }

        scratch.Write("]"u8);
        return scratch.WrittenMemory;
    }

    public async Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(
        string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default)
    {
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);

        // The row holding the first event wanted starts at most MaxEventsPerRow - 1 ids before it: a key range.
        var from = afterEventId - MaxEventsPerRow;
        var rows = db.Events.AsNoTracking()
            .Where(e => e.SessionId == sessionId && e.EventId > from && e.LastEventId > afterEventId)
            .OrderBy(e => e.EventId)
            .Take(limit)
            .AsAsyncEnumerable();

        // Rows are read one at a time, and no further than the limit takes: a row may hold many events.
        var events = new List<SessionEvent>(Math.Min(limit, 256));
        await foreach (var row in rows.WithCancellation(cancellationToken))
        {
            var payload = Encoding.UTF8.GetBytes(row.Payload);
            if (row.LastEventId == row.EventId)
            {
                events.Add(new SessionEvent(row.SessionId, row.EventId, row.RunId, row.Type, payload));
            }
            else
            {
                SplitRow(row, payload, afterEventId, limit, events);
            }

            if (events.Count >= limit)
            {
                break;
            }
        }

        return events;
    }

    public async Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default)
    {
        await using var db = await Contexts.CreateDbContextAsync(cancellationToken);
        return await _lastEventId(db, sessionId, cancellationToken) ?? 0;
    }

    // Compiled once per store (a compiled query keeps the provider it first ran on): every run's start asks it.
    private readonly Func<ConclaveDbContext, string, CancellationToken, Task<long?>> _lastEventId = EF.CompileAsyncQuery(
        (ConclaveDbContext db, string sessionId, CancellationToken _) => db.Events
            .Where(e => e.SessionId == sessionId)
            .OrderByDescending(e => e.EventId)
            .Select(e => (long?)e.LastEventId)
            .FirstOrDefault());

    /// <summary>
    /// The batch with each session's events together, in the order they came (which is their id order): the events of
    /// runs streaming at once arrive interleaved, and only neighbours share a row. Sessions keep the order of their first
    /// event. Regrouped, the events are in <paramref name="rented"/> (from the shared pool, for the caller to return):
    /// with many sessions streaming every batch is regrouped, and a list per session would be made again each time.
    /// </summary>
    private static IReadOnlyList<SessionEvent> BySession(IReadOnlyList<SessionEvent> batch, out SessionEvent[]? rented)
    {
        rented = null;

        // Most batches are one run streaming: nothing to regroup, nothing to copy.
        if (batch.All(e => string.Equals(e.SessionId, batch[0].SessionId, StringComparison.Ordinal)))
        {
            return batch;
        }

        // Each event's session, numbered in order of first appearance; then a counting sort by that number, which keeps
        // each session's events in the order they came.
        var sessions = t_sessionNumbers ??= new Dictionary<string, int>(StringComparer.Ordinal);
        var sessionOf = ArrayPool<int>.Shared.Rent(batch.Count);
        var starts = ArrayPool<int>.Shared.Rent(batch.Count + 1);
        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                if (!sessions.TryGetValue(batch[i].SessionId, out var session))
                {
                    sessions[batch[i].SessionId] = session = sessions.Count;
                    starts[session + 1] = 0;
                }

                sessionOf[i] = session;
                starts[session + 1]++;
            }

            starts[0] = 0;
            for (var session = 1; session <= sessions.Count; session++)
            {
                starts[session] += starts[session - 1];
            }

            rented = ArrayPool<SessionEvent>.Shared.Rent(batch.Count);
            for (var i = 0; i < batch.Count; i++)
            {
                rented[starts[sessionOf[i]]++] = batch[i];
            }

            return new ArraySegment<SessionEvent>(rented, 0, batch.Count);
        }
        finally
        {
            sessions.Clear();
            ArrayPool<int>.Shared.Return(sessionOf);
            ArrayPool<int>.Shared.Return(starts);
        }
    }

    /// <summary>Groups a batch into rows: runs of consecutive events of one session, run and type, within the row limits.</summary>
    private static List<Range> RowsOf(IReadOnlyList<SessionEvent> events)
    {
        var rows = new List<Range>();
        var start = 0;
        var bytes = 0;
        for (var i = 0; i < events.Count; i++)
        {
            var e = events[i];
            if (i > start)
            {
                var first = events[start];
                var previous = events[i - 1];
                var joins = i - start < MaxEventsPerRow
                    && bytes + e.Utf8Json.Length + 1 <= MaxBytesPerRow
                    && e.EventId == previous.EventId + 1
                    && string.Equals(e.SessionId, first.SessionId, StringComparison.Ordinal)
                    && string.Equals(e.RunId, first.RunId, StringComparison.Ordinal)
                    && string.Equals(e.Type, first.Type, StringComparison.Ordinal);
                if (!joins)
                {
                    rows.Add(new Range(start, i));
                    start = i;
                    bytes = 0;
                }
            }

            bytes += e.Utf8Json.Length + 1;
        }

        if (events.Count > start)
        {
            rows.Add(new Range(start, events.Count));
        }

        return rows;
    }

    /// <summary>Adds the events of a row of several, with an id above <paramref name="afterEventId"/>, up to <paramref name="limit"/>.</summary>
    private static void SplitRow(EventEntity row, byte[] payload, long afterEventId, int limit, List<SessionEvent> events)
    {
        // As deep as the writer may have written an event (its default limit), and one more for the array.
        var reader = new Utf8JsonReader(payload, new JsonReaderOptions { MaxDepth = 1_001 });
        reader.Read(); // [
        var eventId = row.EventId;
        while (reader.Read() && reader.TokenType == JsonTokenType.StartObject && events.Count < limit)
        {
            var start = (int)reader.TokenStartIndex;
            reader.Skip();
            if (eventId > afterEventId)
            {
                var end = (int)reader.BytesConsumed;
                events.Add(new SessionEvent(row.SessionId, eventId, row.RunId, row.Type, payload.AsMemory(start, end - start)));
            }

            eventId++;
        }
    }
}
