using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Conclave.Storage.EntityFramework;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Sessions;

public sealed class SessionsApiTests
{
    [Fact]
    public async Task CreateReturns201WithTheSession()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { title = "Plans", metadata = new { team = "blue" } });
        var body = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/v1/sessions/{body.Str("id")}", response.Headers.Location?.OriginalString);
        Assert.Equal("Plans", body.Str("title"));
        Assert.Equal("blue", body.GetProperty("metadata").Str("team"));
        Assert.False(string.IsNullOrEmpty(body.Str("created_at")));
        var fetched = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{body.Str("id")}");
        Assert.Equal("Plans", fetched.Str("title"));
    }

    [Fact]
    public async Task CreateWithAnEmptyBodyWorks()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsync("/api/v1/sessions", new StringContent("{}", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Theory]
    [InlineData("{\"title\": 5}", "title")]
    [InlineData("{\"metadata\": [1, 2]}", "metadata")]
    [InlineData("{\"metadata\": \"x\"}", "metadata")]
    public async Task BadBodyIs400ProblemNamingTheField(string body, string field)
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsync("/api/v1/sessions", new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, field);
    }

    [Fact]
    public async Task BodyThatIsNotJsonIs400Problem()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsync("/api/v1/sessions", new StringContent("{nope", Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ListIsNewestFirstAndPagesWithTheCursor()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await server.CreateSessionAsync());
            await Task.Delay(2);
        }

        using var first = await server.Http.GetAsync("/api/v1/sessions?limit=3");
        var firstPage = await first.Content.ReadFromJsonAsync<JsonElement>();
        var cursor = first.Headers.GetValues("X-Next-Cursor").Single();
        using var second = await server.Http.GetAsync($"/api/v1/sessions?limit=3&cursor={cursor}");
        var secondPage = await second.Content.ReadFromJsonAsync<JsonElement>();

        ids.Reverse();
        Assert.Equal(ids.Take(3), firstPage.EnumerateArray().Select(s => s.Str("id")));
        Assert.Equal(ids.Skip(3), secondPage.EnumerateArray().Select(s => s.Str("id")));
        Assert.False(second.Headers.Contains("X-Next-Cursor"));
    }

    [Fact]
    public async Task PatchChangesOnlyTheFieldsItNamesAndNullClearsOne()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var created = await server.Http.PostAsJsonAsync("/api/v1/sessions", new { title = "old", metadata = new { tag = "a" } });
        var session = await created.Content.ReadFromJsonAsync<JsonElement>();
        var id = session.GetProperty("id").GetString();

        using var renamed = await server.Http.PatchAsync($"/api/v1/sessions/{id}", JsonContent.Create(new { title = "new" }));
        var afterRename = await renamed.Content.ReadFromJsonAsync<JsonElement>();
        using var cleared = await server.Http.PatchAsync($"/api/v1/sessions/{id}", new StringContent("""{"metadata":null}""", Encoding.UTF8, "application/json"));
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{id}");

        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("new", afterRename.GetProperty("title").GetString());
        Assert.Equal("a", afterRename.GetProperty("metadata").GetProperty("tag").GetString());
        Assert.True(afterRename.GetProperty("updated_at").GetDateTime() >= session.GetProperty("updated_at").GetDateTime());
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Equal("new", stored.GetProperty("title").GetString());
        Assert.Equal(JsonValueKind.Null, stored.GetProperty("metadata").ValueKind);
        Assert.Equal(session.GetProperty("created_at").GetDateTime(), stored.GetProperty("created_at").GetDateTime());
    }

    [Theory]
    [InlineData("""{"title": 5}""", "title")]
    [InlineData("""{"title": "\ud800"}""", "title")]
    [InlineData("""{"metadata": [1]}""", "metadata")]
    [InlineData("""[]""", "body")]
    public async Task PatchWithABadBodyIs400NamingTheFieldAndChangesNothing(string body, string field)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var id = await server.CreateSessionAsync();

        using var response = await server.Http.PatchAsync($"/api/v1/sessions/{id}", new StringContent(body, Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, field);
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{id}");
        Assert.Equal("test", stored.GetProperty("title").GetString());
    }

    [Fact]
    public async Task PatchOfAnotherTenantsSessionIs404AndChangesNothing()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var id = await server.CreateSessionAsync();
        var (_, key) = await server.CreateTenantKeyAsync("intruder");
        using var tenant = server.CreateClient(key);

        using var response = await tenant.PatchAsync($"/api/v1/sessions/{id}", JsonContent.Create(new { title = "mine now" }));

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        var stored = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{id}");
        Assert.Equal("test", stored.GetProperty("title").GetString());
    }

    [Fact]
    public async Task UnknownSessionIs404Problem()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        foreach (var path in new[] { "/api/v1/sessions/nope", "/api/v1/sessions/nope/messages", "/api/v1/sessions/nope/events" })
        {
            using var response = await server.Http.GetAsync(path);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task EventsAfterNReturnsOnlyLaterEventsInOrder()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using (var socket = await server.ConnectAsync(session))
        {
            await socket.ChatAsync("stream 5 words");
        }

        var events = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events?after=3");
        var limited = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/events?after=3&limit=2");

        Assert.Equal([4L, 5L, 6L, 7L], events.EnumerateArray().Select(e => e.EventId()));
        Assert.Equal([4L, 5L], limited.EnumerateArray().Select(e => e.EventId()));
    }

    [Fact]
    public async Task UpdatedAtMovesWhenARunEndsOnTheSession()
    {
        var store = (RunEndSignal?)null;
        await using var server = await ConclaveTestServer.StartAsync(services: services =>
            services.AddSingleton<IRunStore>(sp => store = new RunEndSignal(ActivatorUtilities.CreateInstance<EfRunStore>(sp))));
        var session = await server.CreateSessionAsync();
        var before = (await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}")).GetProperty("updated_at").GetDateTime();

        await using (var socket = await server.ConnectAsync(session))
        {
            await socket.ChatAsync("stream 2 words");
        }

        await store!.Ended.Task.WaitAsync(TestSocket.DefaultTimeout);
        var fetched = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}");
        var listed = Assert.Single((await server.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/sessions"))!);
        Assert.True(fetched.GetProperty("updated_at").GetDateTime() > before, fetched.GetRawText());
        Assert.Equal(fetched.GetProperty("updated_at").GetDateTime(), listed.GetProperty("updated_at").GetDateTime());
    }

    /// <summary>The real run store, telling the test once a run is recorded as ended (after its terminal event is sent).</summary>
    private sealed class RunEndSignal(IRunStore store) : DelegatingRunStore(store)
    {
        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task EndRunAsync(string runId, RunStatus status, CancellationToken cancellationToken = default)
        {
            await base.EndRunAsync(runId, status, cancellationToken);
            Ended.TrySetResult();
        }
    }

    [Fact]
    public async Task DeleteCancelsTheRunClosesSocketsAndRemovesDataAndWorkspace()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        var workspace = Path.Combine(server.DataDir, "workspaces", session);
        await using var socket = await server.ConnectAsync(session);
        await socket.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"f.txt\", \"content\": \"x\"}" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        await socket.ReceiveRunEndAsync();
        await socket.SendAsync(new { type = "message", content = "ask me: still?" });
        await socket.ReceiveTypeAsync("ask_human");
        Assert.True(File.Exists(Path.Combine(workspace, "f.txt")));

        using var deleted = await server.Http.DeleteAsync($"/api/v1/sessions/{session}");
        var rest = new List<JsonElement>();
        var closed = await Record.ExceptionAsync(async () =>
        {
            while (true)
            {
                rest.Add(await socket.ReceiveAsync());
            }
        });

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal("cancelled", rest.Single(f => f.IsTerminal()).Str("code"));
        Assert.True(closed is WebSocketClosedException or WebSocketException, closed?.ToString());
        Assert.False(Directory.Exists(workspace));
        using var gone = await server.Http.GetAsync($"/api/v1/sessions/{session}/events");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Equal(404, await server.UpgradeStatusAsync(session));
        await using var db = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(server.DataDir, "conclave.db")}");
        await db.OpenAsync();
        foreach (var table in new[] { "events", "messages", "runs", "sessions" })
        {
            await using var count = db.CreateCommand();
            count.CommandText = $"SELECT COUNT(*) FROM {table}";
            Assert.Equal(0L, (long)(await count.ExecuteScalarAsync())!);
        }
    }
}
