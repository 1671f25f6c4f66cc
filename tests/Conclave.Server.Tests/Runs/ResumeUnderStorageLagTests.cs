using Conclave.Agents.Events;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

/// <summary>
/// Events go out before they are stored. With storage made to lag (an event a word, one event per write, two other
/// sessions streaming, and each look-up of a session's newest stored id answering late, so that events are stored
/// meanwhile), a client that resumes from an id the store does not have yet must still get every later event exactly
/// once.
/// </summary>
public sealed class ResumeUnderStorageLagTests
{
    private const int Words = 3000;

    [Fact]
    public async Task ManyResumesWhileStorageLagsGiveNoDuplicateAndNoGap()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Events:MaxBatchSize"] = "1",
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "0",

            // An event a word, so that the store falls far behind the stream.
            ["Conclave:Agent:MaxMergedDeltaChars"] = "0",
        },
        services: services => services.AddSingleton<IEventStore>(sp => new LateNewestIdStore(ActivatorUtilities.CreateInstance<SqliteEventStore>(sp))));
        var others = new List<TestSocket>();
        for (var i = 0; i < 2; i++)
        {
            var other = await server.ConnectAsync(await server.CreateSessionAsync());
            await other.SendAsync(new { type = "message", content = $"stream {Words} words" });
            others.Add(other);
        }

        var session = await server.CreateSessionAsync();
        await using var steady = await server.ConnectAsync(session);
        await steady.SendAsync(new { type = "message", content = $"stream {Words} words" });
        var seen = new List<long>();
        var resumes = 0;
        var aheadOfStore = 0;
        var random = new Random(16);
        var ended = false;
        while (!ended)
        {
            var last = seen.Count == 0 ? 0 : seen[^1];
            var dropping = await server.ConnectAsync(session, lastEventId: last);
            resumes++;
            if (last > dropping.Connected.GetProperty("last_event_id").GetInt64())
            {
                aheadOfStore++; // the client holds events the store does not have yet
            }

            try
            {
                for (var n = random.Next(5, 100); n > 0; n--)
                {
                    var frame = await dropping.ReceiveAsync();
                    seen.Add(frame.EventId());
                    if (frame.IsTerminal())
                    {
                        ended = true;
                        break;
                    }
                }
            }
            finally
            {
                dropping.Socket.Abort(); // dropped, not closed politely
                await dropping.DisposeAsync();
            }
        }

        var steadyFrames = await steady.ReceiveRunEndAsync(TimeSpan.FromSeconds(60));
        foreach (var other in others)
        {
            await other.DisposeAsync();
        }

        var duplicates = seen.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{duplicates.Count} duplicates over {resumes} resumes, first {string.Join(", ", duplicates.Take(5))}");
        Assert.Equal(steadyFrames.Select(f => f.EventId()), seen);
        Assert.True(aheadOfStore > 0, $"storage never lagged behind what a client held over {resumes} resumes");
    }

    /// <summary>The real store, whose answer to "the newest stored id" comes a little late, as under load.</summary>
    private sealed class LateNewestIdStore(IEventStore store) : IEventStore
    {
        public Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default) =>
            store.AppendAsync(events, cancellationToken);

        public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default) =>
            store.ReadAfterAsync(sessionId, afterEventId, limit, cancellationToken);

        public async Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default)
        {
            var newest = await store.GetLastEventIdAsync(sessionId, cancellationToken);
            await Task.Delay(10, cancellationToken);
            return newest;
        }
    }
}
