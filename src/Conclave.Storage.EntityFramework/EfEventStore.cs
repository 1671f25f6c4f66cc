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

    protected IDbContextFactory<ConclaveDbContext> Contexts => contexts;

    public Task AppendAsync(IReadOnlyList<SessionEvent> batch, CancellationToken cancellationToken = default)
    {
        var events = BySession(batch);
        return WriteRowsAsync(events, RowsOf(events), cancellationToken);
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
    /// runs streaming at once arrive interleaved, and only neighbours share a row.
    /// </summary>
    private static IReadOnlyList<SessionEvent> BySession(IReadOnlyList<SessionEvent> batch)
    {
        // Most batches are one run streaming: nothing to regroup, nothing to copy.
        if (batch.All(e => string.Equals(e.SessionId, batch[0].SessionId, StringComparison.Ordinal)))
        {
            return batch;
        }

        var sessions = new Dictionary<string, List<SessionEvent>>(StringComparer.Ordinal);
        foreach (var e in batch)
        {
            if (!sessions.TryGetValue(e.SessionId, out var events))
            {
                sessions[e.SessionId] = events = [];
            }

            events.Add(e);
        }

        return [.. sessions.Values.SelectMany(events => events)];
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
