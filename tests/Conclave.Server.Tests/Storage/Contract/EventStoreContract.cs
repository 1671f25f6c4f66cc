using System.Text;
using Conclave.Agents.Events;

using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>
/// What every event store must do, whatever the engine behind it: each storage provider's tests derive from this
/// with <see cref="StartAsync"/> giving them a fresh database.
/// </summary>
public abstract class EventStoreContract
{
    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task ASessionWithoutEventsReadsEmptyAndItsNewestIdIsZero()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();

        Assert.Empty(await storage.Events.ReadAfterAsync(session, 0, 100));
        Assert.Equal(0, await storage.Events.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task EventsReadBackInOrderByteForByteFromAnyIdUpToTheLimit()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        var events = Run(session, "run_a", 1, 150).Concat(Run(session, "run_b", 151, 60)).ToList();

        await storage.Events.AppendAsync(events);

        StoredEventsAssert.Same(events, await storage.Events.ReadAfterAsync(session, 0, 10_000));
        foreach (var after in new long[] { 1, 2, 74, 149, 150, 151, 209, 210 })
        {
            StoredEventsAssert.Same(events.Where(e => e.EventId > after).ToList(), await storage.Events.ReadAfterAsync(session, after, 10_000));
            StoredEventsAssert.Same(events.Where(e => e.EventId > after).Take(7).ToList(), await storage.Events.ReadAfterAsync(session, after, 7));
        }

        Assert.Equal(210, await storage.Events.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task ABatchOfInterleavedSessionsKeepsEachSessionApartAndInOrder()
    {
        await using var storage = await StartAsync();
        var first = await storage.NewSessionAsync();
        var second = await storage.NewSessionAsync();
        var a = Run(first, "run_a", 1, 40).ToList();
        var b = Run(second, "run_b", 1, 25).ToList();
        var interleaved = a.Zip(b).SelectMany(pair => new[] { pair.First, pair.Second }).Concat(a.Skip(b.Count)).ToList();

        await storage.Events.AppendAsync(interleaved);

        StoredEventsAssert.Same(a, await storage.Events.ReadAfterAsync(first, 0, 1_000));
        StoredEventsAssert.Same(b, await storage.Events.ReadAfterAsync(second, 0, 1_000));
        Assert.Equal(40, await storage.Events.GetLastEventIdAsync(first));
        Assert.Equal(25, await storage.Events.GetLastEventIdAsync(second));
    }

    [Fact]
    public async Task BatchesAppendToWhatIsStored()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        var events = Run(session, "run_a", 1, 50).ToList();

        foreach (var batch in events.Chunk(9))
        {
            await storage.Events.AppendAsync(batch);
            Assert.Equal(batch[^1].EventId, await storage.Events.GetLastEventIdAsync(session));
        }

        StoredEventsAssert.Same(events, await storage.Events.ReadAfterAsync(session, 0, 1_000));
    }

    /// <summary>A run's events as a model streams them: thinking, tokens (with text that needs escaping), a terminal.</summary>
    private static IEnumerable<SessionEvent> Run(string session, string runId, long firstId, int count)
    {
        for (var i = 0; i < count; i++)
        {
            var id = firstId + i;
            var type = i == 0 ? "thinking" : i == count - 1 ? "final_answer" : i % 17 == 0 ? "step" : "token";
            var json = $$"""{"type":"{{type}}","event_id":{{id}},"run_id":"{{runId}}","content":"w{{id}} \"é😀\\n"}""";
            yield return new SessionEvent(session, id, runId, type, Encoding.UTF8.GetBytes(json));
        }
    }
}
