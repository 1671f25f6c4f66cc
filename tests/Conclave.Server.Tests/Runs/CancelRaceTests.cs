using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Agents.Runs;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

/// <summary>
/// A <c>cancel</c> that meets a <c>confirmation_reply</c>: whichever wins, what happened is what the session records.
/// Either the tool did not run (nothing written), or its <c>confirmation_result</c>, <c>step</c> end and history entry
/// are there before the terminal event; an approval the server took is always recorded.
/// </summary>
public sealed class CancelRaceTests
{
    private const string WriteFile = "use tool write_file {\"path\": \"race.txt\", \"content\": \"written\"}";
    private const int Rounds = 15;

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AnApprovalAndACancelAtOnceLeaveARecordOfWhatHappened(bool approvalFirst)
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var runs = server.Services.GetRequiredService<IRunControl>();
        for (var round = 0; round < Rounds; round++)
        {
            var session = await server.CreateSessionAsync();
            await using var socket = await server.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = WriteFile });
            var request = await socket.ReceiveTypeAsync("confirmation_request");
            var requestId = request.Str("request_id")!;

            // Back to back in one thread, as two sockets' receive loops may call them: the first has taken effect
            // before the second starts (in one process both complete at once), but the run has not yet seen either.
            bool accepted;
            if (approvalFirst)
            {
                accepted = await runs.AnswerAsync(session, requestId, RequestKind.Confirmation, new HumanAnswer(true, null));
                Assert.True(await runs.CancelAsync(session, null));
            }
            else
            {
                Assert.True(await runs.CancelAsync(session, null));
                accepted = await runs.AnswerAsync(session, requestId, RequestKind.Confirmation, new HumanAnswer(true, null));
            }

            var frames = await socket.ReceiveRunEndAsync();

            Assert.Equal("cancelled", frames[^1].Str("code"));
            await AssertRecordedAsync(server, session, socket.Received, approvalAccepted: accepted ? true : null);
        }
    }

    [Fact]
    public async Task AnApprovalAndACancelFromTwoSocketsLeaveARecordOfWhatHappened()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var session = await server.CreateSessionAsync();
            await using var approver = await server.ConnectAsync(session);
            await using var canceller = await server.ConnectAsync(session);
            await approver.SendAsync(new { type = "message", content = WriteFile });
            var request = await approver.ReceiveTypeAsync("confirmation_request");

            await Task.WhenAll(
                approver.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true }),
                canceller.SendAsync(new { type = "cancel" }));
            await approver.ReceiveRunEndAsync();

            // The reply was taken unless the approver was told it was not, before the answer to a later ping.
            await approver.SendAsync(new { type = "ping", nonce = "after" });
            await approver.ReceiveUntilAsync(f => f.Type() == "pong");
            var refused = approver.Received.Any(f => f.Str("code") == "unknown_request");
            await AssertRecordedAsync(server, session, approver.Received, approvalAccepted: refused ? null : true);
        }
    }

    /// <summary>What the socket received, the stored events, the history and the workspace all tell the same story.</summary>
    private static async Task AssertRecordedAsync(ConclaveTestServer server, string session, List<JsonElement> received, bool? approvalAccepted)
    {
        var written = File.Exists(Path.Combine(server.DataDir, "workspaces", session, "race.txt"));
        var stored = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events") ?? [];
        var history = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/messages") ?? [];
        var sent = received.Where(f => f.EventId() > 0).Select(f => f.EventId()).ToList();
        Assert.Equal(sent, stored.Select(e => e.EventId()));

        var start = Assert.Single(stored, e => e.Type() == "step" && e.Str("phase") == "start");
        var end = Assert.Single(stored, e => e.Type() == "step" && e.Str("phase") == "end");
        var tool = Assert.Single(history, m => m.Str("role") == "tool");
        var result = stored.SingleOrDefault(e => e.Type() == "confirmation_result");
        if (approvalAccepted is true)
        {
            Assert.True(result.ValueKind == JsonValueKind.Object, "an approval the server took has no confirmation_result: " + string.Join("\n", received.Select(f => f.GetRawText())));
            Assert.True(result.GetProperty("approved").GetBoolean());
            Assert.Equal("user", result.Str("by"));
        }

        if (written)
        {
            Assert.True(result.GetProperty("approved").GetBoolean());
            Assert.StartsWith("Wrote", end.GetProperty("result").GetString(), StringComparison.Ordinal);
            Assert.StartsWith("Wrote", tool.Str("content"), StringComparison.Ordinal);
        }
        else
        {
            Assert.False(end.TryGetProperty("result", out _), end.GetRawText());
            Assert.False(string.IsNullOrEmpty(end.Str("error")));
            Assert.StartsWith("not run:", tool.Str("content"), StringComparison.Ordinal);
        }

        Assert.True(start.EventId() < end.EventId());
        Assert.True(end.EventId() < stored[^1].EventId());
        Assert.True(stored[^1].IsTerminal());
    }
}
