using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Teams;

/// <summary>
/// A team whose experts wait on people outlives a stop of the server: finished tasks keep their results, the waiting
/// experts wait again with the conversations they had, and the tasks that were running start again.
/// </summary>
public sealed class DurableTeamWaitTests
{
    [Fact]
    public async Task AfterAStopTheWaitingExpertsWaitAgainFinishedTasksKeepTheirResultsAndRunningOnesStartAgain()
    {
        var (script, calls, lastCall) = Script();
        using var temp = new TempDataDir();
        string session, runId;
        JsonElement ask, confirm;
        await using (var first = await ConclaveTestServer.StartAsync(model: script.ToClient(), dataDir: temp.Path))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = "/team four things" });
            var seen = await socket.ReceiveUntilAsync(_ =>
                socket.Received.Any(f => f.Type() == "ask_human") && socket.Received.Any(f => f.Type() == "confirmation_request")
                && socket.Received.Any(f => f.Type() == "expert_result" && f.Str("task_id") == "done")
                && socket.Received.Any(f => f.Type() == "expert_step" && f.Str("task_id") == "slow" && f.Str("kind") == "token"));
            ask = seen.Single(f => f.Type() == "ask_human");
            confirm = seen.Single(f => f.Type() == "confirmation_request");
            runId = ask.Str("run_id")!;
        }

        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient(), dataDir: temp.Path);
        await using var again = await server.ConnectAsync(session);
        var pending = again.Connected.GetProperty("pending").EnumerateArray().Select(p => p.GetRawText()).ToList();
        await again.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "blue" });
        await again.SendAsync(new { type = "confirmation_reply", request_id = confirm.Str("request_id"), approved = false });
        var frames = await again.ReceiveRunEndAsync();

        Assert.Equal(new[] { ask.GetRawText(), confirm.GetRawText() }.Order(), pending.Order());
        Assert.Equal(runId, again.Connected.Str("active_run_id"));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal(runId, frames[^1].Str("run_id"));
        var events = await server.Http.GetFromJsonAsync<List<JsonElement>>($"/api/v1/sessions/{session}/events") ?? [];
        string ResultOf(string task) => events.Single(f => f.Type() == "expert_result" && f.Str("task_id") == task).Str("content")!;
        Assert.Equal("colour is blue", ResultOf("ask"));
        Assert.StartsWith("write saw: Error:", ResultOf("write"), StringComparison.Ordinal);
        Assert.Contains("denied", ResultOf("write"), StringComparison.Ordinal);
        Assert.Equal("slow finished", ResultOf("slow"));
        Assert.Equal("after: True", ResultOf("after"));
        Assert.Single(events, e => e.Type() == "expert_result" && e.Str("task_id") == "done");
        Assert.Contains("done result", frames[^1].Str("content"), StringComparison.Ordinal);

        // The finished task ran once; the streaming one again; the waiting experts went on with their conversations.
        Assert.Equal(1, calls["done"]);
        Assert.Equal(2, calls["slow"]);
        Assert.Equal(2, calls["ask"]);
        var asked = lastCall["ask"].Messages;
        Assert.Single(asked.SelectMany(m => m.Contents).OfType<FunctionCallContent>(), c => c.Name == "ask_human");
        Assert.False(File.Exists(Path.Combine(temp.Path, "workspaces", session, "out.txt")));

        Assert.Equal(Enumerable.Range(1, events.Count).Select(i => (long)i), events.Select(e => e.EventId()));
        Assert.Single(events, e => e.IsTerminal());
        Assert.Single(events, e => e.Type() == "team_formed");
        Assert.Equal("completed", Assert.Single(events, e => e.Type() == "team_dissolved").Str("reason"));
        Assert.DoesNotContain(events, e => e.Type() == "plan_update" && e.GetProperty("plan").EnumerateArray().Any(t => t.Str("status") == "cancelled"));
    }

    [Fact]
    public async Task AWaitTakenUpAfterARestartStaysStoredThroughTheNextOneUntilItIsAnswered()
    {
        var (script, calls, _) = Script();
        using var temp = new TempDataDir();
        string session;
        JsonElement ask, confirm;
        await using (var first = await ConclaveTestServer.StartAsync(model: script.ToClient(), dataDir: temp.Path))
        {
            session = await first.CreateSessionAsync();
            await using var socket = await first.ConnectAsync(session);
            await socket.SendAsync(new { type = "message", content = "/team four things" });
            await socket.ReceiveUntilAsync(_ => socket.Received.Any(f => f.Type() == "ask_human") && socket.Received.Any(f => f.Type() == "confirmation_request"));
            ask = socket.Received.Single(f => f.Type() == "ask_human");
            confirm = socket.Received.Single(f => f.Type() == "confirmation_request");
        }

        // The second process: the question is answered and the tasks after it finish; the confirmation still waits.
        await using (var second = await ConclaveTestServer.StartAsync(model: script.ToClient(), dataDir: temp.Path))
        {
            await using var socket = await second.ConnectAsync(session);
            await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "green" });
            await socket.ReceiveUntilAsync(f => f.Type() == "expert_result" && f.Str("task_id") == "after");
        }

        await using var third = await ConclaveTestServer.StartAsync(model: script.ToClient(), dataDir: temp.Path);
        await using var again = await third.ConnectAsync(session);
        var pending = again.Connected.GetProperty("pending").EnumerateArray().Select(p => p.GetRawText()).ToList();
        await again.SendAsync(new { type = "confirmation_reply", request_id = confirm.Str("request_id"), approved = false });
        var frames = await again.ReceiveRunEndAsync();

        Assert.Equal([confirm.GetRawText()], pending);
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Contains("colour is green", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.Contains("write saw: Error: the user denied it", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.Equal(2, calls["ask"]);
        Assert.Equal(1, calls["after"]);
        Assert.Equal(2, calls["write"]);
    }

    /// <summary>
    /// The plan: <c>ask</c> asks a question, <c>write</c> asks to write a file, <c>done</c> answers at once, <c>slow</c>
    /// streams for minutes the first time and answers at once after, and <c>after</c> waits for <c>ask</c>. Calls are
    /// counted by task.
    /// </summary>
    private static (TeamScript Script, ConcurrentDictionary<string, int> Calls, ConcurrentDictionary<string, ExpertCall> LastCall) Script()
    {
        var calls = new ConcurrentDictionary<string, int>(StringComparer.Ordinal);
        var lastCall = new ConcurrentDictionary<string, ExpertCall>(StringComparer.Ordinal);
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(
                ("ask", "researcher", []), ("write", "writer", []), ("done", "analyst", []), ("slow", "critic", []), ("after", "analyst", ["ask"])),
            Expert = (call, ct) =>
            {
                var turn = calls.AddOrUpdate(call.TaskId, 1, (_, n) => n + 1);
                lastCall[call.TaskId] = call;
                return call.TaskId switch
                {
                    "ask" when call.Results.Count == 0 => Infrastructure.Stream.Call("ask_human", new() { ["question"] = "Which colour?" }),
                    "ask" => ScriptedChatClient.Answer($"colour is {call.Results[0].Result}"),
                    "write" when call.Results.Count == 0 => Infrastructure.Stream.Call("write_file", new() { ["path"] = "out.txt", ["content"] = "x" }),
                    "write" => ScriptedChatClient.Answer($"write saw: {call.Results[0].Result}"),
                    "slow" when turn == 1 => Infrastructure.Stream.Tokens(10_000, 20, "s", ct),
                    "slow" => ScriptedChatClient.Answer("slow finished"),
                    "after" => ScriptedChatClient.Answer("after: " + call.Messages[1].Text.Contains("colour is", StringComparison.Ordinal)),
                    _ => ScriptedChatClient.Answer("done result"),
                };
            },
        };
        return (script, calls, lastCall);
    }
}
