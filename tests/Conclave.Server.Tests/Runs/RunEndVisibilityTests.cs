using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Runs;
using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

/// <summary>
/// Once a client has a run's terminal event, every later read says the run is over, even while the server is still
/// recording the run as ended (made slow here, as when storage lags).
/// </summary>
public sealed class RunEndVisibilityTests
{
    [Fact]
    public async Task AfterTheTerminalEventNoReadNamesTheRunAsActive()
    {
        await using var server = await ConclaveTestServer.StartAsync(services: services =>
            services.AddSingleton<IRunStore>(sp => new SlowEndRunStore(ActivatorUtilities.CreateInstance<EfRunStore>(sp))));
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        for (var round = 0; round < 5; round++)
        {
            var frames = await socket.ChatAsync("stream 3 words");
            var runId = frames[^1].Str("run_id");

            var fetched = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}");
            var listed = await server.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/sessions");
            await using var fresh = await server.ConnectAsync(session);
            Assert.Equal(JsonValueKind.Null, fetched.GetProperty("active_run_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, Assert.Single(listed!).GetProperty("active_run_id").ValueKind);
            Assert.Equal(JsonValueKind.Null, fresh.Connected.GetProperty("active_run_id").ValueKind);
            Assert.Empty(fresh.Connected.GetProperty("pending").EnumerateArray());

            await socket.SendAsync(new { type = "cancel", run_id = runId });
            Assert.Equal("no_active_run", (await socket.ReceiveAsync()).Str("code"));
        }
    }

    [Fact]
    public async Task ACancelThatComesOnceTheAnswerIsInIsNoActiveRunAndTheAnswerStands()
    {
        var store = (SlowEndRunStore?)null;
        await using var server = await ConclaveTestServer.StartAsync(services: services =>
            services.AddSingleton<IRunStore>(sp => store = new SlowEndRunStore(ActivatorUtilities.CreateInstance<EfRunStore>(sp))));
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        // The answer is complete; storing it in the history takes a while.
        await socket.SendAsync(new { type = "message", content = "stream 3 words" });
        await socket.ReceiveUntilAsync(f => f.Str("content") == " word3");
        await store!.AnswerStoring.Task.WaitAsync(TimeSpan.FromSeconds(10));
        await socket.SendAsync(new { type = "cancel" });
        var terminal = (await socket.ReceiveUntilAsync(f => f.IsTerminal()))[^1];
        if (!socket.Received.Any(f => f.Str("code") == "no_active_run"))
        {
            await socket.ReceiveUntilAsync(f => f.Str("code") == "no_active_run"); // or times out: the cancel was taken
        }

        Assert.Equal("final_answer", terminal.Type());
        Assert.Equal("word1 word2 word3", terminal.Str("content"));
    }

    /// <summary>The real run store, slow to record a run as ended and to store an answer.</summary>
    private sealed class SlowEndRunStore(IRunStore store) : DelegatingRunStore(store)
    {
        public TaskCompletionSource AnswerStoring { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task AppendMessageAsync(string sessionId, string runId, HistoryMessage message, CancellationToken cancellationToken = default)
        {
            if (message.Role == HistoryMessage.Assistant)
            {
                AnswerStoring.TrySetResult();
                await Task.Delay(300, CancellationToken.None);
            }

            await base.AppendMessageAsync(sessionId, runId, message, cancellationToken);
        }

        public override async Task EndRunAsync(string runId, RunStatus status, CancellationToken cancellationToken = default)
        {
            await Task.Delay(300, CancellationToken.None);
            await base.EndRunAsync(runId, status, cancellationToken);
        }
    }
}
