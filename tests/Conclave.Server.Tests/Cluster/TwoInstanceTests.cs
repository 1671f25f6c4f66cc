using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Cluster;

/// <summary>Two servers on one PostgreSQL database, joined through a real Redis: a run on one, watched and steered from the other.</summary>
[Trait("Category", "Cluster")]
public sealed class TwoInstanceTests
{
    [Fact]
    public async Task ARunOnAReachesASocketOnBLiveInOrderAsOnA()
    {
        await using var cluster = await TwoInstances.StartAsync();
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await using var onB = await cluster.B.ConnectAsync(session);

        var sent = await onA.ChatAsync("stream 500 words");
        var watched = await onB.ReceiveRunEndAsync();

        Assert.Equal("final_answer", sent[^1].Type());
        Assert.Equal(sent.Select(f => f.GetRawText()), watched.Select(f => f.GetRawText()));
    }

    [Fact]
    public async Task ASocketOnBResumesARunOfAWithNoGapAndNoDuplicate()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "stream 200 words" });
        var seen = (await onA.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 40)).Last().EventId();

        await using var onB = await cluster.B.ConnectAsync(session, lastEventId: seen);
        var rest = await onB.ReceiveRunEndAsync();
        var all = await onA.ReceiveRunEndAsync();

        Assert.Equal(Enumerable.Range((int)seen + 1, rest.Count).Select(i => (long)i), rest.Select(f => f.EventId()));
        Assert.Equal(all.Where(f => f.EventId() > seen).Select(f => f.GetRawText()), rest.Select(f => f.GetRawText()));
    }

    [Fact]
    public async Task AMessageOnBWhileTheSessionsRunGoesOnAIsRefusedAsRunInProgress()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        // Long enough to be going on however slow the machine (it is cancelled below).
        await onA.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onA.ReceiveTypeAsync("token");

        await using var onB = await cluster.B.ConnectAsync(session);
        await onB.SendAsync(new { type = "message", content = "stream 3 words" });
        var refused = await onB.ReceiveTypeAsync("error");
        Assert.Equal("run_in_progress", refused.Str("code"));
        Assert.Null(refused.Str("run_id"));

        // Once A's run ended (B's socket sees that too), B takes the next one, its ids right after A's.
        await onA.SendAsync(new { type = "cancel" });
        var endOnA = (await onA.ReceiveRunEndAsync())[^1];
        Assert.Equal("cancelled", endOnA.Str("code"));
        Assert.Equal(endOnA.GetRawText(), (await onB.ReceiveRunEndAsync())[^1].GetRawText());
        var next = await onB.ChatAsync("stream 3 words");
        Assert.Equal("final_answer", next[^1].Type());
        Assert.NotEqual(endOnA.Str("run_id"), next[^1].Str("run_id"));
        Assert.Equal(endOnA.EventId() + 1, next[0].EventId());
    }

    [Fact]
    public async Task ARunOnAIsListedWithItsSessionAndCancelledThroughTheRestApiOfB()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var session = await cluster.A.CreateSessionAsync();
        var idle = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "stream 100000 words" });
        var runId = (await onA.ReceiveTypeAsync("token")).Str("run_id");

        var listed = await cluster.B.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs");
        var sessionOnB = await cluster.B.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}");
        var sessionsOnB = await cluster.B.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/sessions");
        using var cancelled = await cluster.B.Http.PostAsync($"/api/v1/runs/{runId}/cancel", null);
        var end = (await onA.ReceiveRunEndAsync(TimeSpan.FromSeconds(5)))[^1];

        Assert.Contains(listed!, r => r.Str("run_id") == runId && r.Str("session_id") == session);
        Assert.Equal(runId, sessionOnB.Str("active_run_id"));
        Assert.Equal(runId, Assert.Single(sessionsOnB!, s => s.Str("id") == session).Str("active_run_id"));
        Assert.Equal(JsonValueKind.Null, Assert.Single(sessionsOnB!, s => s.Str("id") == idle).GetProperty("active_run_id").ValueKind);
        Assert.Equal(HttpStatusCode.NoContent, cancelled.StatusCode);
        Assert.Equal("cancelled", end.Str("code"));
        Assert.Empty((await cluster.B.Http.GetFromJsonAsync<List<JsonElement>>("/api/v1/runs"))!);
    }

    [Fact]
    public async Task CancelSentToBStopsARunOnA()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "20" });
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onA.ReceiveTypeAsync("token");

        await using var onB = await cluster.B.ConnectAsync(session);
        Assert.NotNull(onB.Connected.Str("active_run_id"));
        await onB.SendAsync(new { type = "cancel" });
        var end = (await onA.ReceiveRunEndAsync(TimeSpan.FromSeconds(5)))[^1];

        Assert.Equal("error", end.Type());
        Assert.Equal("cancelled", end.Str("code"));
    }

    [Fact]
    public async Task APendingApprovalOfARunOnAIsListedOnBAndApprovedFromThere()
    {
        await using var cluster = await TwoInstances.StartAsync();
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"x.txt\", \"content\": \"1\"}" });
        var request = await onA.ReceiveTypeAsync("confirmation_request");

        await using var onB = await cluster.B.ConnectAsync(session);
        var pending = Assert.Single(onB.Connected.GetProperty("pending").EnumerateArray());
        Assert.Equal(request.Str("run_id"), onB.Connected.Str("active_run_id"));
        Assert.Equal(request.GetRawText(), pending.GetRawText());

        await onB.SendAsync(new { type = "confirmation_reply", request_id = pending.Str("request_id"), approved = true });
        var end = (await onA.ReceiveRunEndAsync())[^1];
        Assert.StartsWith("Tool write_file returned:", end.Str("content"), StringComparison.Ordinal);
        Assert.Equal(end.GetRawText(), (await onB.ReceiveRunEndAsync())[^1].GetRawText());
    }

    [Fact]
    public async Task AnAnswerFromBToAQuestionOfARunOnAReachesTheModel()
    {
        await using var cluster = await TwoInstances.StartAsync();
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "ask me: which colour?" });
        var ask = await onA.ReceiveTypeAsync("ask_human");

        await using var onB = await cluster.B.ConnectAsync(session);
        await onB.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "teal" });
        var end = (await onA.ReceiveRunEndAsync())[^1];

        Assert.Contains("teal", end.Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnAnswerToNoPendingRequestIsRefusedOnBWithoutWaitingForever()
    {
        await using var cluster = await TwoInstances.StartAsync();
        var session = await cluster.A.CreateSessionAsync();
        await using var onB = await cluster.B.ConnectAsync(session);

        await onB.SendAsync(new { type = "reply", request_id = "req_nothing", content = "x" });
        var error = await onB.ReceiveTypeAsync("error", TimeSpan.FromSeconds(10));

        Assert.Equal("unknown_request", error.Str("code"));
    }

    [Fact]
    public async Task ATicketIssuedThroughAOpensOneSocketOnBAndThenNoneAnywhere()
    {
        await using var cluster = await TwoInstances.StartAsync();
        var session = await cluster.A.CreateSessionAsync();
        using var issued = await cluster.A.Http.PostAsJsonAsync("/api/v1/chat/tickets", new { });
        var ticket = (await issued.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("ticket").GetString()!;

        var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(cluster.B.SocketUri(session, key: null, ticket: ticket), CancellationToken.None);
        await using var onB = new TestSocket(socket);
        Assert.Equal("connected", (await onB.ReceiveAsync()).Type());

        Assert.Equal(401, await cluster.B.UpgradeStatusAsync(session, key: null, ticket: ticket));
        Assert.Equal(401, await cluster.A.UpgradeStatusAsync(session, key: null, ticket: ticket));
    }
}
