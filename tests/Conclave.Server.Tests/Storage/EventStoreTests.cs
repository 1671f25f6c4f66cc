using System.Text;
using Conclave.Agents.Events;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage;

public sealed class EventStoreTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData(64 * 3 + 5)]
    public async Task AppendedEventsReadBackFieldForField(int count)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var store = server.Services.GetRequiredService<IEventStore>();
        var session = await server.CreateSessionAsync();
        var start = new DateTime(2026, 11, 24, 1, 2, 3, DateTimeKind.Utc).AddTicks(1234567);
        var events = Enumerable.Range(1, count).Select(i => new SessionEvent(
            session,
            i,
            i % 3 == 0 ? null : $"run_{i % 2}",
            i % 2 == 0 ? "token" : "thinking",
            Encoding.UTF8.GetBytes($$"""{"type":"token","event_id":{{i}},"content":"wörd {{i}} ✓ 🚀"}"""),
            start.AddTicks(i * 10_001))).ToList();

        await store.AppendAsync(events);
        var read = await store.ReadAfterAsync(session, 0, 10_000);

        Assert.Equal(count, read.Count);
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(events[i].SessionId, read[i].SessionId);
            Assert.Equal(events[i].EventId, read[i].EventId);
            Assert.Equal(events[i].RunId, read[i].RunId);
            Assert.Equal(events[i].Type, read[i].Type);
            Assert.Equal(events[i].Utf8Json.ToArray(), read[i].Utf8Json.ToArray());
            Assert.Equal(events[i].CreatedAt, read[i].CreatedAt);
        }

        Assert.Equal(count, await store.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task AFailedBatchStoresNothingOfIt()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var store = server.Services.GetRequiredService<IEventStore>();
        var session = await server.CreateSessionAsync();
        SessionEvent Event(long id) => new(session, id, "run_1", "token", "{}"u8.ToArray(), DateTime.UtcNow);
        await store.AppendAsync([Event(1)]);

        // Event 1 again, after 70 new ones: the key is taken, so the whole batch is refused.
        var batch = Enumerable.Range(2, 70).Select(i => Event(i)).Append(Event(1)).ToList();
        await Assert.ThrowsAnyAsync<Exception>(() => store.AppendAsync(batch));

        Assert.Equal(1, await store.GetLastEventIdAsync(session));
    }
}
