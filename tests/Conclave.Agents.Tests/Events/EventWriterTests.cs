using System.Collections.Concurrent;
using Conclave.Agents.Events;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Events;

public sealed class EventWriterTests
{
    [Fact]
    public async Task TokensArePublishedBeforeTheyAreStoredAndStayInTheTailUntilThen()
    {
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        var received = new RecordingSubscriber();
        using var subscription = hub.Subscribe("s", received);
        using var writer = new EventWriter(store, hub, Options.Create(new EventWriterOptions()), NullLogger<EventWriter>.Instance);
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
        var store = new GatedStore();
        var hub = new InProcessSessionEventHub();
        var received = new RecordingSubscriber();
        using var subscription = hub.Subscribe("s", received);
        using var writer = new EventWriter(store, hub, Options.Create(new EventWriterOptions()), NullLogger<EventWriter>.Instance);
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
