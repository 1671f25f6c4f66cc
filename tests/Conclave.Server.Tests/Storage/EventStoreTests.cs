using System.Text;
using Conclave.Agents.Events;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage;

public sealed class EventStoreTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(64)]
    [InlineData((64 * 3) + 5)]
    [InlineData(EfEventStore.MaxEventsPerRow + 300)]
    public async Task AppendedEventsReadBackFieldForField(int count)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (store, session) = await StoreAndSessionAsync(server);
        var events = Mixed(session, 1, count);

        await store.AppendAsync(events);
        var read = await store.ReadAfterAsync(session, 0, 100_000);

        StoredEventsAssert.Same(events, read);
        Assert.Equal(count, await store.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task ConsecutiveEventsOfOneRunAndTypeShareARowAndReadBackFromAnyId()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (store, session) = await StoreAndSessionAsync(server);
        var events = new List<SessionEvent> { Event(session, 1, "run_1", "thinking") };
        events.AddRange(Enumerable.Range(2, 2_500).Select(i => Event(session, i, "run_1", "token")));
        events.Add(Event(session, 2_502, "run_1", "final_answer"));
        events.AddRange(Enumerable.Range(2_503, 10).Select(i => Event(session, i, "run_2", "token")));

        await store.AppendAsync(events);

        // thinking | 1024 + 1024 + 452 tokens | final_answer | 10 tokens of the next run
        Assert.Equal(6, await RowCountAsync(server, session));
        foreach (var after in new long[] { 0, 1, 2, 500, 1_025, 1_026, 2_047, 2_500, 2_501, 2_502, 2_511, 2_512 })
        {
            StoredEventsAssert.Same(events.Where(e => e.EventId > after).ToList(), await store.ReadAfterAsync(session, after, 100_000));
        }

        foreach (var (after, limit) in new[] { (0L, 1), (1L, 3), (1_020L, 10), (2_499L, 3), (2_510L, 5) })
        {
            StoredEventsAssert.Same(events.Where(e => e.EventId > after).Take(limit).ToList(), await store.ReadAfterAsync(session, after, limit));
        }

        Assert.Equal(2_512, await store.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task BatchesOfOneRunReadBackAsOneLog()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (store, session) = await StoreAndSessionAsync(server);
        var events = Enumerable.Range(1, 30).Select(i => Event(session, i, "run_1", "token")).ToList();

        foreach (var batch in events.Chunk(7))
        {
            await store.AppendAsync(batch);
        }

        StoredEventsAssert.Same(events, await store.ReadAfterAsync(session, 0, 1_000));
        StoredEventsAssert.Same(events.Skip(10).Take(5).ToList(), await store.ReadAfterAsync(session, 10, 5));
        Assert.Equal(30, await store.GetLastEventIdAsync(session));
    }

    [Fact]
    public async Task DeeplyNestedEventsThatShareARowReadBack()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (store, session) = await StoreAndSessionAsync(server);
        var nested = new string('[', 300) + new string(']', 300);
        var events = Enumerable.Range(1, 2)
            .Select(i => new SessionEvent(session, i, "run_1", "step", Encoding.UTF8.GetBytes($$"""{"type":"step","event_id":{{i}},"arguments":{{nested}}}""")))
            .ToList();

        await store.AppendAsync(events);

        Assert.Equal(1, await RowCountAsync(server, session));
        StoredEventsAssert.Same(events, await store.ReadAfterAsync(session, 0, 10));
    }

    [Fact]
    public async Task AFailedBatchStoresNothingOfIt()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (store, session) = await StoreAndSessionAsync(server);
        await store.AppendAsync([Event(session, 1, "run_1", "token")]);

        // Event 1 again, after 70 new ones of another type: the key is taken, so the whole batch is refused.
        var batch = Enumerable.Range(2, 70).Select(i => Event(session, i, "run_1", "thinking")).Append(Event(session, 1, "run_1", "token")).ToList();
        await Assert.ThrowsAsync<SqliteException>(() => store.AppendAsync(batch));

        Assert.Equal(1, await store.GetLastEventIdAsync(session));
        Assert.Single(await store.ReadAfterAsync(session, 0, 100));
    }

    [Fact]
    public async Task EventsStoredBeforeRowsHeldSeveralReadBackAfterTheUpgrade()
    {
        using var temp = new TempDataDir();
        await OlderSchema.CreateAsync(
            temp.Path,
            "20261124001226_SkillModel",
            """
            INSERT INTO sessions (Id, TenantId, Title, CreatedAt, UpdatedAt) VALUES ('sess_old', 'admin', NULL, '2026-11-24 00:00:00', '2026-11-24 00:00:00');
            INSERT INTO events (SessionId, EventId, RunId, Type, Payload, CreatedAt) VALUES
              ('sess_old', 1, 'run_1', 'token', '{"type":"token","event_id":1}', '2026-11-24 00:00:00'),
              ('sess_old', 2, 'run_1', 'token', '{"type":"token","event_id":2}', '2026-11-24 00:00:00');
            """);
        await using var server = await ConclaveTestServer.StartAsync(dataDir: temp.Path);
        var store = server.Services.GetRequiredService<IEventStore>();

        Assert.Equal(2, await store.GetLastEventIdAsync("sess_old"));
        Assert.Equal([1L, 2L], (await store.ReadAfterAsync("sess_old", 0, 10)).Select(e => e.EventId));
        Assert.Equal("""{"type":"token","event_id":2}""", Encoding.UTF8.GetString((await store.ReadAfterAsync("sess_old", 1, 10))[0].Utf8Json.Span));
    }

    private static async Task<(IEventStore Store, string Session)> StoreAndSessionAsync(ConclaveTestServer server) =>
        (server.Services.GetRequiredService<IEventStore>(), await server.CreateSessionAsync());

    private static List<SessionEvent> Mixed(string session, int first, int count) =>
        Enumerable.Range(first, count).Select(i => Event(session, i, i % 3 == 0 ? null : $"run_{i % 2}", i % 5 == 0 ? "thinking" : "token")).ToList();

    private static SessionEvent Event(string session, long id, string? runId, string type) =>
        new(session, id, runId, type, Encoding.UTF8.GetBytes($$"""{"type":"{{type}}","event_id":{{id}},"content":"wörd {{id}} ✓ 🚀 \"[x]\" \n"}"""));

    private static async Task<long> RowCountAsync(ConclaveTestServer server, string session)
    {
        await using var connection = new SqliteConnection($"Data Source={Path.Combine(server.DataDir, "conclave.db")}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM events WHERE SessionId = $s";
        command.Parameters.AddWithValue("$s", session);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
