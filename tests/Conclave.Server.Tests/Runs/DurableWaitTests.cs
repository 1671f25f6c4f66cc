using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text.Json;
using Conclave.Agents.Runs;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

/// <summary>
/// A single agent's run waiting on a person outlives its process: killed (<c>kill -9</c>) or stopped (SIGTERM), the
/// next start on the same data folder has the same request pending, and an answer from a fresh socket lets the run go
/// on with the conversation it had.
/// </summary>
public sealed class DurableWaitTests
{
    private const string WriteFile = "use tool write_file {\"path\": \"notes/a.txt\", \"content\": \"hello\"}";

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AConfirmationPendingWhenTheProcessIsKilledIsAnsweredAfterTheRestart(bool approve)
    {
        using var temp = new TempDataDir();
        var (session, request) = await KillWhileWaitingAsync(temp.Path, WriteFile, "confirmation_request");

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        await using var socket = await server.ConnectAsync(session, lastEventId: request.EventId());
        var pending = Assert.Single(socket.Connected.GetProperty("pending").EnumerateArray());
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = approve });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal(request.GetRawText(), pending.GetRawText());
        Assert.Equal(request.Str("run_id"), socket.Connected.Str("active_run_id"));
        Assert.Equal(approve, Assert.Single(frames, f => f.Type() == "confirmation_result").GetProperty("approved").GetBoolean());
        Assert.Equal(request.Str("run_id"), frames[^1].Str("run_id"));
        var file = Path.Combine(temp.Path, "workspaces", session, "notes", "a.txt");
        if (approve)
        {
            Assert.Equal("Tool write_file returned: Wrote 5 bytes to notes/a.txt.", frames[^1].Str("content"));
            Assert.Equal("hello", await File.ReadAllTextAsync(file));
        }
        else
        {
            Assert.Equal("Tool write_file was not run: the user denied it", frames[^1].Str("content"));
            Assert.False(File.Exists(file));
        }

        await AssertContiguousAndChatsOnAsync(server, session, socket);
    }

    [Fact]
    public async Task AQuestionPendingWhenTheProcessIsKilledIsRepliedToAfterTheRestart()
    {
        using var temp = new TempDataDir();
        var (session, ask) = await KillWhileWaitingAsync(temp.Path, "ask me: still there?", "ask_human");

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        await using var socket = await server.ConnectAsync(session);
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "yes" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal(ask.Str("request_id"), Assert.Single(socket.Connected.GetProperty("pending").EnumerateArray()).Str("request_id"));
        Assert.Equal("You answered: yes", frames[^1].Str("content"));
        var history = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/messages") ?? [];
        Assert.Equal(["user", "tool", "assistant"], history.Select(m => m.Str("role")));
        Assert.Equal("yes", history[1].Str("content"));
        await AssertContiguousAndChatsOnAsync(server, session, socket);
    }

    [Fact]
    public async Task AnExpertsQuestionPendingWhenTheProcessIsKilledIsRepliedToAfterTheRestartAndTheTeamFinishes()
    {
        // The builtin team: the researcher asks, the analyst answers at once, the writer waits for both.
        using var temp = new TempDataDir();
        var (session, ask) = await KillWhileWaitingAsync(temp.Path, "/team ask me: which colour?", "ask_human");

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        await using var socket = await server.ConnectAsync(session);
        var pending = Assert.Single(socket.Connected.GetProperty("pending").EnumerateArray());
        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "blue" });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal(ask.GetRawText(), pending.GetRawText());
        Assert.Equal(("researcher", "research"), (ask.Str("expert"), ask.Str("task_id")));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal(ask.Str("run_id"), frames[^1].Str("run_id"));
        Assert.Equal("You answered: blue", frames.Single(f => f.Type() == "expert_result" && f.Str("task_id") == "research").Str("content"));
        Assert.Single(frames, f => f.Type() == "expert_result" && f.Str("task_id") == "writing");
        Assert.EndsWith("Every task was done.", frames[^1].Str("content"), StringComparison.Ordinal);
        var events = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events") ?? [];
        Assert.Single(events, e => e.Type() == "team_formed");
        Assert.Single(events, e => e.Type() == "team_dissolved");
        await AssertContiguousAndChatsOnAsync(server, session, socket);
    }

    [Fact]
    public async Task AResumedRunSendsTheModelTheConversationItHadAndKeepsItsAnswerSoFar()
    {
        // One turn: some text, then two calls: the calculator (runs at once) and write_file (waits for approval).
        var model = new ScriptedChatClient((messages, _, _) => messages[^1].Contents.OfType<FunctionResultContent>().Any()
            ? ScriptedChatClient.Answer(" done")
            : TextThenCalls());
        using var temp = new TempDataDir();
        string session;
        JsonElement request;
        await using (var first = await ConclaveTestServer.StartAsync(model: model, dataDir: temp.Path))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = "calculate, then write" });
            request = await socket.ReceiveTypeAsync("confirmation_request");
        }

        await using var server = await ConclaveTestServer.StartAsync(model: model, dataDir: temp.Path);
        await using var again = await server.ConnectAsync(session);
        await again.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await again.ReceiveRunEndAsync();

        Assert.Equal("Let me see.  done", frames[^1].Str("content"));
        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Equal(2, end.GetProperty("step").GetInt32());
        var resumedTurn = model.Calls[^1].Messages;
        var call = resumedTurn.Single(m => m.Role == ChatRole.Assistant && m.Contents.OfType<FunctionCallContent>().Any());
        Assert.Equal("Let me see. ", call.Text);
        Assert.Equal(["calc", "write"], call.Contents.OfType<FunctionCallContent>().Select(c => c.CallId));
        var results = resumedTurn[^1].Contents.OfType<FunctionResultContent>().ToList();
        Assert.Equal(["calc", "write"], results.Select(r => r.CallId));
        Assert.Contains("42", results[0].Result?.ToString(), StringComparison.Ordinal);
        Assert.Contains("Wrote", results[1].Result?.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWaitThatCannotBeStoredStillWaitsInMemory()
    {
        await using var server = await ConclaveTestServer.StartAsync(services: services =>
            services.AddSingleton<IRunStore>(sp => new NoWaitsRunStore(ActivatorUtilities.CreateInstance<EfRunStore>(sp))));
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("Tool write_file returned: Wrote 5 bytes to notes/a.txt.", frames[^1].Str("content"));
        Assert.Contains(server.Logs.Lines, l => l.Contains("could not be stored", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AWaitOutlivesASigtermOfTheServerProcess()
    {
        using var temp = new TempDataDir();
        string session;
        JsonElement ask;
        await using (var process = await ServerProcess.StartAsync(temp.Path, new Dictionary<string, string> { ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey }))
        {
            var (socket, created) = await process.OpenSessionAsync();
            await using (socket)
            {
                session = created;
                await socket.SendAsync(new { type = "message", content = "ask me: after the upgrade?" });
                ask = await socket.ReceiveTypeAsync("ask_human");

                await process.TerminateAsync(TimeSpan.FromSeconds(60));
                Assert.Equal(0, process.ExitCode);
                Assert.DoesNotContain(socket.Received, f => f.IsTerminal());
            }
        }

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        await using var again = await server.ConnectAsync(session);
        await again.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "yes" });

        Assert.Equal("You answered: yes", (await again.ReceiveRunEndAsync())[^1].Str("content"));
    }

    [Fact]
    public async Task AWaitOutlivesAGracefulStopToo()
    {
        using var temp = new TempDataDir();
        string session;
        JsonElement request;
        await using (var first = await ConclaveTestServer.StartAsync(dataDir: temp.Path))
        {
            session = await first.CreateSessionAsync();
            var socket = await first.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = WriteFile });
            request = await socket.ReceiveTypeAsync("confirmation_request");

            var stopping = first.StopAsync();
            var closed = await Assert.ThrowsAsync<WebSocketClosedException>(async () =>
            {
                while (true)
                {
                    Assert.False((await socket.ReceiveAsync()).IsTerminal(), "a waiting run ended at the stop");
                }
            });
            await stopping;
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, closed.Status);
        }

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path);
        await using var again = await server.ConnectAsync(session);
        await again.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await again.ReceiveRunEndAsync();

        Assert.Equal("Tool write_file returned: Wrote 5 bytes to notes/a.txt.", frames[^1].Str("content"));
    }

    [Fact]
    public async Task AConfirmationThatExpiredWhileTheServerWasDownIsExpiredAtTheRestartAndTheModelIsTold()
    {
        using var temp = new TempDataDir();
        var settings = new Dictionary<string, string> { ["Conclave__Confirmation__TimeoutSeconds"] = "2" };
        var (session, request) = await KillWhileWaitingAsync(temp.Path, WriteFile, "confirmation_request", settings);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await using var server = await ConclaveTestServer.RestartOnAsync(temp.Path, new Dictionary<string, string?> { ["Conclave:Confirmation:TimeoutSeconds"] = "2" });
        await using var socket = await server.ConnectAsync(session, lastEventId: request.EventId());
        var frames = await socket.ReceiveRunEndAsync();

        Assert.Equal("timeout", Assert.Single(frames, f => f.Type() == "confirmation_result").Str("by"));
        Assert.StartsWith("Tool write_file was not run: the request expired", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(temp.Path, "workspaces", session, "notes", "a.txt")));
    }

    private static async IAsyncEnumerable<ChatResponseUpdate> TextThenCalls()
    {
        await Task.Yield();
        yield return ScriptedChatClient.Text("Let me see. ");
        yield return new ChatResponseUpdate(ChatRole.Assistant,
        [
            new FunctionCallContent("calc", "calculator", new Dictionary<string, object?> { ["expression"] = "6*7" }),
            new FunctionCallContent("write", "write_file", new Dictionary<string, object?> { ["path"] = "notes/a.txt", ["content"] = "hello" }),
        ]);
    }

    /// <summary>The real run store, whose wait storage fails.</summary>
    private sealed class NoWaitsRunStore(IRunStore store) : DelegatingRunStore(store)
    {
        public override Task SaveWaitAsync(RunWait wait, CancellationToken cancellationToken = default) =>
            throw new InvalidOperationException("The disk is full.");
    }

    /// <summary>Starts a server process, sends <paramref name="message"/>, waits for the request it makes, then kills the process.</summary>
    private static async Task<(string Session, JsonElement Request)> KillWhileWaitingAsync(
        string dataDir, string message, string requestType, Dictionary<string, string>? settings = null)
    {
        var environment = new Dictionary<string, string>(settings ?? []) { ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey };
        await using var process = await ServerProcess.StartAsync(dataDir, environment);
        var (socket, session) = await process.OpenSessionAsync();
        await using (socket)
        {
            await socket.SendAsync(new { type = "message", content = message });
            var request = await socket.ReceiveTypeAsync(requestType);
            await process.KillAsync();
            return (session, request);
        }
    }

    private static async Task AssertContiguousAndChatsOnAsync(ConclaveTestServer server, string session, TestSocket socket)
    {
        var events = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events") ?? [];
        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.EventId()));
        Assert.Single(events, e => e.IsTerminal());
        Assert.Equal("word1 word2", (await socket.ChatAsync("stream 2 words"))[^1].Str("content"));
    }
}
