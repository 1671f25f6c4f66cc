using System.Text;
using Conclave.Agents.Events;

namespace Conclave.Agents.Tests.Events;

public sealed class EventJournalTests
{
    [Fact]
    public async Task RestoreStoresWhatTheStoreLacksUnchangedAndDeletesThePreviousSegments()
    {
        using var test = new TestJournal();
        var store = new MemoryStore();
        var written = Events("a", 1, 5).Concat(Events("b", 1, 3)).Append(Event("a", 6, "final_answer", runId: null)).ToList();
        AppendAll(test.Journal, written[..4]);
        AppendAll(test.Journal, written[4..]);
        await store.AppendAsync(written.Where(e => e.SessionId == "a" && e.EventId <= 2).ToList());

        var journal = test.Reopen();
        var restored = await journal.RestoreAsync(store, batchSize: 2);

        Assert.Equal(7, restored);
        Assert.Equal(Describe(written.OrderBy(e => e.SessionId).ThenBy(e => e.EventId)), Describe(store.All.OrderBy(e => e.SessionId).ThenBy(e => e.EventId)));
        Assert.Empty(Directory.EnumerateFiles(test.Folder));
    }

    [Fact]
    public async Task EventsBeforeAStoredMarkAreNotRestoredEvenWhenTheStoreNoLongerHasThem()
    {
        // A session deleted after its events were stored must not come back from the journal.
        using var test = new TestJournal();
        var store = new MemoryStore();
        var stored = AppendAll(test.Journal, Events("deleted", 1, 3));
        test.Journal.MarkStored(stored);
        AppendAll(test.Journal, Events("kept", 1, 2));

        var restored = await test.Reopen().RestoreAsync(store, batchSize: 100);

        Assert.Equal(2, restored);
        Assert.All(store.All, e => Assert.Equal("kept", e.SessionId));
    }

    [Fact]
    public async Task ATornLastWriteIsDroppedAndEverythingBeforeItRestored()
    {
        using var test = new TestJournal();
        var store = new MemoryStore();
        AppendAll(test.Journal, Events("s", 1, 3));
        var end = AppendAll(test.Journal, Events("s", 4, 4)).Offset;
        test.Journal.Dispose();
        var segment = Assert.Single(Directory.EnumerateFiles(test.Folder));
        var bytes = File.ReadAllBytes(segment);
        bytes.AsSpan((int)end - 5, 5).Clear(); // the copy of the last record stopped short
        File.WriteAllBytes(segment, bytes);

        var restored = await test.Reopen().RestoreAsync(store, batchSize: 100);

        Assert.Equal(3, restored);
        Assert.Equal([1L, 2L, 3L], store.All.Select(e => e.EventId));
    }

    [Fact]
    public async Task ARecordWhoseBytesChangedEndsTheSegmentThere()
    {
        using var test = new TestJournal();
        var store = new MemoryStore();
        var firstWrite = AppendAll(test.Journal, Events("s", 1, 2)).Offset;
        AppendAll(test.Journal, Events("s", 3, 4));
        test.Journal.Dispose();
        var segment = Assert.Single(Directory.EnumerateFiles(test.Folder));
        var bytes = File.ReadAllBytes(segment);
        bytes[firstWrite + 20] ^= 0xFF;
        File.WriteAllBytes(segment, bytes);

        await test.Reopen().RestoreAsync(store, batchSize: 100);

        Assert.Equal([1L, 2L], store.All.Select(e => e.EventId));
    }

    [Fact]
    public async Task AStoredMarkKeepsOneFullSegmentBeforeItsOwnZeroedForReuseAndDeletesTheOthers()
    {
        using var test = new TestJournal();
        var big = new string('x', 64 * 1024);
        var last = default(JournalPosition);
        for (var id = 1; id <= (2 * EventJournal.SegmentBytes / big.Length) + 8; id++)
        {
            last = test.Journal.Append(Event("s", id, "token", "run_1", big));
        }

        Assert.Equal(3, Directory.EnumerateFiles(test.Folder).Count());
        test.Journal.MarkStored(last);

        var files = Directory.EnumerateFiles(test.Folder).Order().ToList();
        Assert.Equal(2, files.Count);
        Assert.False(File.ReadAllBytes(files[0]).AsSpan().ContainsAnyExcept((byte)0));
        Assert.Equal(0, await test.Reopen().RestoreAsync(new MemoryStore(), batchSize: 100));
    }

    [Fact]
    public async Task AReusedSegmentHoldsOnlyItsNewEventsAfterARestart()
    {
        using var test = new TestJournal();
        var store = new MemoryStore();
        var big = new string('x', 64 * 1024);
        var perSegment = EventJournal.SegmentBytes / big.Length;
        var id = 0;
        var written = new List<SessionEvent>();
        JournalPosition AppendBig()
        {
            var e = Event("s", ++id, "token", "run_1", big);
            written.Add(e);
            return test.Journal.Append(e);
        }

        // Three segments' worth, each stored as soon as it is written: the stored ones come back as the next ones.
        for (var segment = 0; segment < 3; segment++)
        {
            var end = default(JournalPosition);
            for (var i = 0; i < perSegment; i++)
            {
                end = AppendBig();
            }

            await store.AppendAsync(written.Where(e => e.EventId > store.All.Count).ToList());
            test.Journal.MarkStored(end);
        }

        for (var i = 0; i < 5; i++)
        {
            AppendBig();
        }

        Assert.True(Directory.EnumerateFiles(test.Folder).Count() <= 3);

        var restored = await test.Reopen().RestoreAsync(store, batchSize: 100);

        Assert.Equal(5, restored);
        Assert.Equal(Describe(written), Describe(store.All.OrderBy(e => e.EventId)));
    }

    [Fact]
    public async Task ANewProcessWritesItsOwnSegmentsAndRestoresOnlyThePreviousOnes()
    {
        using var test = new TestJournal();
        AppendAll(test.Journal, Events("s", 1, 2));
        var journal = test.Reopen();
        AppendAll(journal, Events("s", 3, 3));
        var store = new MemoryStore();

        var restored = await journal.RestoreAsync(store, batchSize: 100);

        Assert.Equal(2, restored);
        Assert.Single(Directory.EnumerateFiles(test.Folder));
        Assert.Equal(1, await test.Reopen().RestoreAsync(store, batchSize: 100));
        Assert.Equal([1L, 2L, 3L], store.All.Select(e => e.EventId));
    }

    private static JournalPosition AppendAll(EventJournal journal, IEnumerable<SessionEvent> events)
    {
        var end = default(JournalPosition);
        foreach (var sessionEvent in events)
        {
            end = journal.Append(sessionEvent);
        }

        return end;
    }

    private static List<SessionEvent> Events(string sessionId, long from, long to) =>
        [.. Enumerable.Range((int)from, (int)(to - from + 1)).Select(id => Event(sessionId, id, "token", "run_1"))];

    private static SessionEvent Event(string sessionId, long id, string type, string? runId, string? text = null) =>
        new(sessionId, id, runId, type, Encoding.UTF8.GetBytes($"{{\"type\":\"{type}\",\"event_id\":{id},\"content\":\"{text ?? "é" + id}\"}}"));

    private static List<string> Describe(IEnumerable<SessionEvent> events) =>
        [.. events.Select(e => $"{e.SessionId}/{e.EventId}/{e.RunId}/{e.Type}/{Encoding.UTF8.GetString(e.Utf8Json.Span)}")];

    private sealed class MemoryStore : IEventStore
    {
        private readonly List<SessionEvent> _events = [];

        public IReadOnlyList<SessionEvent> All => _events;

        public Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
        {
            _events.AddRange(events);
            return Task.CompletedTask;
        }

        public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SessionEvent>>([.. _events.Where(e => e.SessionId == sessionId && e.EventId > afterEventId).Take(limit)]);

        public Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(_events.Where(e => e.SessionId == sessionId).Select(e => e.EventId).DefaultIfEmpty(0).Max());
    }
}
