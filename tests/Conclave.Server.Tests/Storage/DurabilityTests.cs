using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage;

public sealed class DurabilityTests
{
    [Fact]
    public async Task RestartKeepsSessionsHistoryAndEventsAndContinuesEventIds()
    {
        using var temp = new TempDataDir();
        var dataDir = temp.Path;
        string session;
        List<JsonElement> before;
        await using (var first = await ConclaveTestServer.StartAsync(dataDir: dataDir))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            before = await socket.ChatAsync("stream 3 words");
        }

        await using var second = await ConclaveTestServer.RestartOnAsync(dataDir);
        var messages = await second.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/messages");
        var events = await second.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events");
        await using var again = await second.ConnectAsync(session);
        var after = await again.ChatAsync("stream 2 words");

        Assert.Equal(2, messages.GetArrayLength());
        Assert.Equal(before.Select(f => f.GetRawText()), events.EnumerateArray().Select(e => e.GetRawText()));
        Assert.Equal(before[^1].EventId(), again.Connected.GetProperty("last_event_id").GetInt64());
        Assert.Equal(before[^1].EventId() + 1, after[0].EventId());
    }

    [Fact]
    public async Task KilledMidStreamEndsAtRestartWithOneInternalErrorCarryingTheUsageSoFarAndLeavesNoRunOpen()
    {
        using var temp = new TempDataDir();
        string session;
        await using (var process = await ServerProcess.StartAsync(temp.Path, new Dictionary<string, string>
        {
            ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey,
            ["Conclave__Llm__Builtin__TokenDelayMs"] = "300",
        }))
        {
            var (socket, created) = await process.OpenSessionAsync();
            await using var opened = socket;
            session = created;

            // A first model turn (a tool call, whose usage is recorded), then the second streams when the process dies.
            await socket.SendAsync(new { type = "message", content = "use tool calculator {\"expression\": \"6*7\"}" });
            await socket.ReceiveUntilAsync(f => f.Type() == "step" && f.Str("phase") == "end");
            await socket.ReceiveTypeAsync("token");
            await process.KillAsync();
        }

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        var events = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events") ?? [];

        var terminal = Assert.Single(events, e => e.IsTerminal());
        Assert.Equal(events[^1].GetRawText(), terminal.GetRawText());
        Assert.Equal("internal", terminal.Str("code"));
        Assert.True(terminal.GetProperty("retryable").GetBoolean());
        var usage = terminal.GetProperty("usage");
        Assert.True(usage.GetProperty("input_tokens").GetInt64() > 0, usage.GetRawText());
        Assert.True(usage.GetProperty("output_tokens").GetInt64() > 1, usage.GetRawText());
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.EventId()));
        await using var again = await server.ConnectAsync(session);
        Assert.Equal(JsonValueKind.Null, again.Connected.GetProperty("active_run_id").ValueKind);
        Assert.Equal("word1", (await again.ChatAsync("stream 1 words"))[^1].Str("content"));
    }

    [Fact]
    public async Task KilledWhileMergedDeltasStreamTheUsageCountsEveryWordTheClientGot()
    {
        using var temp = new TempDataDir();
        string session;
        List<JsonElement> received;
        await using (var process = await ServerProcess.StartAsync(temp.Path, new Dictionary<string, string>
        {
            ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey,

            // The model writes faster than the server sends: each delta carries many words.
            ["Conclave__Llm__Builtin__TokenDelayMs"] = "0",
            ["Conclave__WebSocket__SendQueueCapacity"] = "1000000",
        }))
        {
            var (socket, created) = await process.OpenSessionAsync();
            await using var opened = socket;
            session = created;
            await socket.SendAsync(new { type = "message", content = "stream 1000000 words" });
            await socket.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 100, TimeSpan.FromSeconds(60));
            await process.KillAsync();
            received = await socket.ReceiveUntilGoneAsync();
        }

        var tokens = received.Where(f => f.Type() == "token").ToList();
        var words = tokens.Sum(f => f.Str("content")!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length);
        Assert.True(words > 2 * tokens.Count, $"{words} words in {tokens.Count} deltas: the deltas did not merge");

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        var events = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events?after={received[^1].EventId()}&limit=10000") ?? [];

        var terminal = Assert.Single(events, e => e.IsTerminal());
        Assert.Equal("internal", terminal.Str("code"));
        var outputTokens = terminal.GetProperty("usage").GetProperty("output_tokens").GetInt64();
        Assert.True(outputTokens >= words, $"{outputTokens} output tokens for {words} words the client got");
    }

    [Fact]
    public Task KilledMidStreamEveryEventAClientReceivedIsStoredUnchangedAndResumingEndsWithOneError() =>
        KilledMidStreamEveryEventAClientReceivedIsStoredAsync(storage: null);

    /// <summary>
    /// A server process killed mid-stream, restarted on the same data folder: every event a client received is stored
    /// unchanged, and resuming ends with one terminal error. <paramref name="storage"/> adds storage settings (none: SQLite).
    /// </summary>
    internal static async Task KilledMidStreamEveryEventAClientReceivedIsStoredAsync(IDictionary<string, string?>? storage)
    {
        using var temp = new TempDataDir();
        string session;
        var received = new List<JsonElement>();
        var environment = new Dictionary<string, string>
        {
            ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey,
            ["Conclave__Llm__Builtin__TokenDelayMs"] = "0",

            // The client reads as fast as it can but may fall behind a model this fast; it is not to be dropped for it.
            ["Conclave__WebSocket__SendQueueCapacity"] = "1000000",

            // An event a word, so that the store lags far behind the stream.
            ["Conclave__Agent__MaxMergedDeltaChars"] = "0",
        };
        foreach (var (name, value) in storage ?? new Dictionary<string, string?>())
        {
            environment[name.Replace(":", "__", StringComparison.Ordinal)] = value!;
        }

        await using (var process = await ServerProcess.StartAsync(temp.Path, environment))
        {
            var (socket, created) = await process.OpenSessionAsync();
            await using var opened = socket;
            session = created;

            // Streams as fast as the server can (the store lags behind it then), killed mid-stream; the client keeps
            // reading until the connection dies, so it has every event the server sent.
            await socket.SendAsync(new { type = "message", content = "stream 1000000 words" });
            await socket.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 20_000, TimeSpan.FromSeconds(60));
            await process.KillAsync();
            received.AddRange(await socket.ReceiveUntilGoneAsync());
        }

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path, storage);
        var stored = new Dictionary<long, string>();
        for (var after = 0L; ;)
        {
            var page = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events?after={after}&limit=10000") ?? [];
            if (page.Count == 0)
            {
                break;
            }

            foreach (var e in page)
            {
                stored[e.EventId()] = e.GetRawText();
            }

            after = page[^1].EventId();
        }

        var lastReceived = received[^1].EventId();
        Assert.True(lastReceived >= 20_000, $"last event received {lastReceived}");
        Assert.Equal(Enumerable.Range(1, (int)lastReceived).Select(i => (long)i), received.Select(f => f.EventId()));
        var missing = received.Where(f => !stored.TryGetValue(f.EventId(), out var json) || json != f.GetRawText()).Select(f => f.EventId()).ToList();
        Assert.True(missing.Count == 0, $"{missing.Count} received events not stored as received, the first {missing.FirstOrDefault()} (last received {lastReceived})");

        await using var resumed = await server.ConnectAsync(session, lastEventId: lastReceived);
        var rest = await resumed.ReceiveRunEndAsync();
        Assert.Equal(Enumerable.Range((int)lastReceived + 1, rest.Count).Select(i => (long)i), rest.Select(f => f.EventId()));
        Assert.Single(rest, f => f.IsTerminal());
        Assert.Equal("internal", rest[^1].Str("code"));
        Assert.Equal(stored.Keys.Max(), rest[^1].EventId());
        Assert.Equal("word1", (await resumed.ChatAsync("stream 1 words"))[^1].Str("content"));
    }

    [Fact]
    public async Task FirstStartWithoutAnAdminKeyPrintsOneOnceAndStoresOnlyItsHash()
    {
        using var temp = new TempDataDir();
        var dataDir = temp.Path;
        string key;
        await using (var first = await ServerProcess.StartAsync(dataDir))
        {
            key = await first.WaitForOutputAsync(@"ck_[A-Za-z0-9_-]{40,}");
            using var http = new HttpClient { BaseAddress = first.BaseUri };
            http.DefaultRequestHeaders.Add("X-API-Key", key);
            using var created = await http.PostAsJsonAsync("/api/v1/api-keys", new { name = "tenant" });
            Assert.Equal(System.Net.HttpStatusCode.Created, created.StatusCode);
        }

        await using var second = await ServerProcess.StartAsync(dataDir);
        await second.WaitForOutputAsync("Application started");
        using var again = new HttpClient { BaseAddress = second.BaseUri };
        again.DefaultRequestHeaders.Add("X-API-Key", key);
        using var listed = await again.GetAsync("/api/v1/api-keys");

        Assert.DoesNotContain("ck_", second.Output, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.OK, listed.StatusCode);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        var file = await File.ReadAllBytesAsync(Path.Combine(dataDir, "conclave.db"));
        Assert.Equal(-1, file.AsSpan().IndexOf(Encoding.UTF8.GetBytes(key)));
    }

    [Fact]
    public async Task EventWritesAreBatchedNotOneWritePerToken()
    {
        var counting = new CountingEventStore();
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "0", ["Conclave:Agent:MaxMergedDeltaChars"] = "0" },
            services: s => s.AddSingleton<IEventStore>(sp => counting.Wrap(sp)));
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("stream 3000 words", TimeSpan.FromSeconds(60));

        Assert.Equal(3000, frames.Count(f => f.Type() == "token"));
        Assert.Equal(frames.Count, counting.Events);
        Assert.True(counting.Writes < frames.Count / 4, $"{counting.Writes} writes for {frames.Count} events");
    }

    private sealed class CountingEventStore
    {
        private IEventStore? _inner;
        private int _writes;
        private int _events;

        public int Writes => _writes;

        public int Events => _events;

        public IEventStore Wrap(IServiceProvider services)
        {
            _inner = ActivatorUtilities.CreateInstance<Conclave.Storage.Sqlite.SqliteEventStore>(services);
            return new Store(this);
        }

        private sealed class Store(CountingEventStore owner) : IEventStore
        {
            public Task AppendAsync(IReadOnlyList<SessionEvent> events, CancellationToken cancellationToken = default)
            {
                Interlocked.Increment(ref owner._writes);
                Interlocked.Add(ref owner._events, events.Count);
                return owner._inner!.AppendAsync(events, cancellationToken);
            }

            public Task<IReadOnlyList<SessionEvent>> ReadAfterAsync(string sessionId, long afterEventId, int limit, CancellationToken cancellationToken = default) =>
                owner._inner!.ReadAfterAsync(sessionId, afterEventId, limit, cancellationToken);

            public Task<long> GetLastEventIdAsync(string sessionId, CancellationToken cancellationToken = default) =>
                owner._inner!.GetLastEventIdAsync(sessionId, cancellationToken);
        }
    }
}
