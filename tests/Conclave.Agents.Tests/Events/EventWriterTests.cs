using System.Collections.Concurrent;
using System.Text;
using Conclave.Agents.Events;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Events;

public sealed class EventWriterTests
{
    [Fact]
    public async Task EveryEventIsInTheJournalBeforeAnySubscriberIsHandedIt()
    {
        using var journal = new TestJournal();
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        var checking = new JournalCheckingSubscriber(journal.Folder);
        using var subscription = hub.Subscribe("s", checking);
        using var writer = new EventWriter(journal.Journal, store, hub, Options.Create(new EventWriterOptions()), NullLogger<EventWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);

        for (var id = 1; id <= 200; id++)
        {
            await writer.EnqueueAsync(new SessionEvent("s", id, "run_1", "token", Encoding.UTF8.GetBytes($"{{\"n\":\"token-{id}-\"}}")));
        }

        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(5));
        store.Open.SetResult();
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(200, checking.Delivered);
        Assert.Empty(checking.NotYetJournaled);
    }

    [Fact]
    public async Task MoreAppendersThanTheCapacityAllGetInOnceTheStoreCatchesUp()
    {
        using var journal = new TestJournal();
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        using var writer = new EventWriter(journal.Journal, store, hub, Options.Create(new EventWriterOptions { QueueCapacity = 16, MaxBatchSize = 4 }), NullLogger<EventWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);

        var appends = Enumerable.Range(1, 40)
            .Select(i => Task.Run(async () => await writer.EnqueueAsync(new SessionEvent($"s{i}", 1, "run_1", "token", "{}"u8.ToArray()))))
            .ToList();
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(5));
        store.Open.SetResult();
        await Task.WhenAll(appends).WaitAsync(TimeSpan.FromSeconds(10));
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        await writer.StopAsync(CancellationToken.None);

        Assert.Equal(40, store.Stored.Count);
    }

    [Fact]
    public async Task TokensArePublishedBeforeTheyAreStoredAndStayInTheTailUntilThen()
    {
        using var journal = new TestJournal();
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        var received = new RecordingSubscriber();
        using var subscription = hub.Subscribe("s", received);
        using var writer = new EventWriter(journal.Journal, store, hub, Options.Create(new EventWriterOptions()), NullLogger<EventWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);

        await writer.EnqueueAsync(Event(1, "token"));
        await writer.EnqueueAsync(Event(2, "token"));
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([1L, 2L], received.Received.Select(e => e.EventId));
        Assert.Equal([1L, 2L], writer.Unstored("s", 0).Select(e => e.EventId));
        Assert.Equal([2L], writer.Unstored("s", 1).Select(e => e.EventId));

        store.Open.SetResult();
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Empty(writer.Unstored("s", 0));
        await writer.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task TerminalEventIsPublishedOnlyOnceStoredAndIsNeverInTheTail()
    {
        using var journal = new TestJournal();
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        var received = new RecordingSubscriber();
        using var subscription = hub.Subscribe("s", received);
        using var writer = new EventWriter(journal.Journal, store, hub, Options.Create(new EventWriterOptions()), NullLogger<EventWriter>.Instance);
        await writer.StartAsync(CancellationToken.None);

        await writer.EnqueueAsync(Event(1, "token"));
        await writer.EnqueueAsync(Event(2, "final_answer"));
        await store.Entered.Task.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal([1L], received.Received.Select(e => e.EventId));
        Assert.DoesNotContain(writer.Unstored("s", 0), e => e.IsTerminal);

        store.Open.SetResult();
        await writer.FlushAsync().WaitAsync(TimeSpan.FromSeconds(5));
        Assert.Equal([1L, 2L], received.Received.Select(e => e.EventId));
        Assert.Equal([1L, 2L], store.Stored.Select(e => e.EventId));
        await writer.StopAsync(CancellationToken.None);
    }

    private static SessionEvent Event(long id, string type) =>
        new("s", id, "run_1", type, "{}"u8.ToArray());

    /// <summary>A subscriber that, as each event is handed to it, looks for the event's bytes in the journal's files.</summary>
    private sealed class JournalCheckingSubscriber(string folder) : ISessionEventSubscriber
    {
        private int _delivered;

        public int Delivered => _delivered;

        public ConcurrentQueue<long> NotYetJournaled { get; } = new();

        public bool TryDeliver(SessionEvent sessionEvent)
        {
            Interlocked.Increment(ref _delivered);
            var journaled = Directory.EnumerateFiles(folder)
                .Any(f => File.ReadAllBytes(f).AsSpan().IndexOf(sessionEvent.Utf8Json.Span) >= 0);
            if (!journaled)
            {
                NotYetJournaled.Enqueue(sessionEvent.EventId);
            }

            return true;
        }
    }

    /// <summary>A store whose first write waits until the test opens it.</summary>
    private sealed class GatedStore : IEventStore
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ConcurrentQueue<SessionEvent> Stored { get; } = new();

        public async Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
        {
            Entered.TrySetResult();
            await Open.Task;
            foreach (var e in events)
            {
                Stored.Enqueue(e);
            }
        }

        public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default) =>
            Task.FromResult<IReadOnlyList<SessionEvent>>(Stored.Where(e => e.EventId > afterEventId).Take(limit).ToList());

        public Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default) =>
            Task.FromResult(Stored.IsEmpty ? 0 : Stored.Max(e => e.EventId));
    }
}
