using System.Collections.Concurrent;
using Conclave.Agents.Events;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Events;

public sealed class SessionEventFeedTests
{
    [Fact]
    public async Task AReaderAheadOfTheStoreGetsOnlyTheEventsAfterItsOwn()
    {
        await using var setup = await Setup.StartAsync(storedUpTo: 2);
        await setup.EnqueueAsync(1, 6); // 1-2 stored, 3-6 published and held back from the store

        using var opening = await setup.Feed.OpenAsync("s", afterEventId: 4, new RecordingSubscriber());
        var missed = await ReadAllAsync(opening);

        Assert.Equal(2, opening.NewestStored);
        Assert.Equal(4, opening.StartAfter);
        Assert.Equal([5L, 6L], missed);
    }

    [Fact]
    public async Task AReaderBehindTheStoreGetsStoredThenUnstoredEventsOnce()
    {
        await using var setup = await Setup.StartAsync(storedUpTo: 3);
        await setup.EnqueueAsync(1, 5);

        using var opening = await setup.Feed.OpenAsync("s", afterEventId: 1, new RecordingSubscriber());
        var missed = await ReadAllAsync(opening);

        Assert.Equal([2L, 3L, 4L, 5L], missed);
    }

    [Fact]
    public async Task AReaderWithoutAnIdGetsOnlyWhatIsNotStoredAndAnIdBeyondEverythingIsTakenAsTheNewest()
    {
        await using var setup = await Setup.StartAsync(storedUpTo: 2);
        await setup.EnqueueAsync(1, 4);

        using var fresh = await setup.Feed.OpenAsync("s", afterEventId: null, new RecordingSubscriber());
        using var beyond = await setup.Feed.OpenAsync("s", afterEventId: 99, new RecordingSubscriber());

        Assert.Equal([3L, 4L], await ReadAllAsync(fresh));
        Assert.Equal(4, beyond.StartAfter);
        Assert.Empty(await ReadAllAsync(beyond));
    }

    [Fact]
    public async Task TheReaderIsSubscribedUntilTheOpeningIsDisposed()
    {
        await using var setup = await Setup.StartAsync(storedUpTo: 0);
        var live = new RecordingSubscriber();

        var opening = await setup.Feed.OpenAsync("s", afterEventId: 0, live);
        await setup.EnqueueAsync(1, 1);
        opening.Dispose();
        await setup.EnqueueAsync(2, 2);

        Assert.Equal([1L], live.Received.Select(e => e.EventId));
    }

    private static async Task<List<long>> ReadAllAsync(SessionEventFeed.Opening opening)
    {
        var ids = new List<long>();
        await foreach (var e in opening.ReadMissedAsync())
        {
            ids.Add(e.EventId);
        }

        return ids;
    }

    /// <summary>A writer over a store that keeps events up to an id and holds every later one back, unstored.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly TestJournal _journal;

        private Setup(TestJournal journal, HoldingStore store, InProcessSessionEventHub hub, EventWriter writer)
        {
            _journal = journal;
            Store = store;
            Writer = writer;
            Feed = new SessionEventFeed(store, writer, hub);
        }

        public HoldingStore Store { get; }

        public EventWriter Writer { get; }

        public SessionEventFeed Feed { get; }

        public static async Task<Setup> StartAsync(long storedUpTo)
        {
            var hub = new InProcessSessionEventHub();
            var store = new HoldingStore(storedUpTo);
            var journal = new TestJournal();
            var writer = new EventWriter(journal.Journal, store, hub, Options.Create(new EventWriterOptions { MaxBatchSize = 1 }), NullLogger<EventWriter>.Instance);
            await writer.StartAsync(CancellationToken.None);
            return new Setup(journal, store, hub, writer);
        }

        public async Task EnqueueAsync(long from, long to)
        {
            for (var id = from; id <= to; id++)
            {
                await Writer.EnqueueAsync(new SessionEvent("s", id, "run_1", "token", "{}"u8.ToArray()));
            }

            // Every event up to the store's limit is stored, and the first one past it is held (later ones queue behind).
            await Store.Reached(Math.Min(to, Store.StoredUpTo + 1)).WaitAsync(TimeSpan.FromSeconds(5));
        }

        public async ValueTask DisposeAsync()
        {
            Store.Release();
            await Writer.StopAsync(CancellationToken.None);
            Writer.Dispose();
            _journal.Dispose();
        }
    }

    private sealed class HoldingStore(long storedUpTo) : IEventStore
    {
        public long StoredUpTo => storedUpTo;

        private readonly ConcurrentQueue<SessionEvent> _stored = new();
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ConcurrentDictionary<long, TaskCompletionSource> _reached = new();

        /// <summary>Completes once the event has been stored, or is the one held back.</summary>
        public Task Reached(long id) => Signal(id).Task;

        public void Release() => _released.TrySetResult();

        public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
        {
            foreach (var e in events)
            {
                if (e.EventId > storedUpTo)
                {
                    Signal(e.EventId).TrySetResult();
                    await _released.Task; // held back: storage lags, the later events wait in the writer's queue
                }

                _stored.Enqueue(e);
                Signal(e.EventId).TrySetResult();
            }
        }

        private TaskCompletionSource Signal(long id) =>
            _reached.GetOrAdd(id, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

        public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SessionEvent>>(_stored.Where(e => e.EventId > afterEventId).Take(limit).ToList());

        public Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(_stored.IsEmpty ? 0 : _stored.Max(e => e.EventId));
    }
}
