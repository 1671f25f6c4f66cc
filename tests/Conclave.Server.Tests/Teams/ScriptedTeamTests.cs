using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Teams;

public sealed class ScriptedTeamTests
{
    [Fact]
    public async Task ConfirmationAndQuestionInsideAnExpertHoldOnlyThatTaskWhileAnotherStreams()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("ask", "researcher", []), ("stream", "analyst", [])),
            Expert = (call, ct) => call.TaskId == "stream"
                ? Infrastructure.Stream.Tokens(40, 25, "s", ct)
                : call.Results.Count switch
                {
                    0 => Infrastructure.Stream.Call("ask_human", new() { ["question"] = "Which file?" }),
                    1 => Infrastructure.Stream.Call("write_file", new() { ["path"] = "answer.txt", ["content"] = call.Results[0].Result?.ToString() }),
                    _ => ScriptedChatClient.Answer("wrote it"),
                },
        };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        await socket.SendAsync(new { type = "message", content = "/team do two things" });

        var ask = await socket.ReceiveTypeAsync("ask_human");
        var teamId = socket.Received.First(f => f.Type() == "team_formed").Str("team_id");
        Assert.Equal(teamId, ask.Str("team_id"));
        Assert.Equal("researcher", ask.Str("expert"));
        Assert.Equal("ask", ask.Str("task_id"));
        // While the question waits, the other task keeps streaming.
        await socket.ReceiveUntilAsync(f => f.Type() == "expert_step" && f.Str("task_id") == "stream" && f.Str("kind") == "token");
        await using (var other = await server.ConnectAsync(session))
        {
            Assert.Equal(ask.GetRawText(), Assert.Single(other.Connected.GetProperty("pending").EnumerateArray()).GetRawText());
        }

        await socket.SendAsync(new { type = "reply", request_id = ask.Str("request_id"), content = "notes" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        Assert.Equal(("researcher", "ask", teamId), (request.Str("expert"), request.Str("task_id"), request.Str("team_id")));
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        var result = frames.Single(f => f.Type() == "confirmation_result");
        Assert.Equal("ask", result.Str("task_id"));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal("notes", await File.ReadAllTextAsync(Path.Combine(server.DataDir, "workspaces", session, "answer.txt")));
        var toolSteps = socket.Received.Where(f => f.Type() == "expert_step" && f.Str("kind") == "tool").Select(f => f.Str("content")).ToList();
        Assert.Contains(toolSteps, c => c!.StartsWith("write_file returned:", StringComparison.Ordinal));
        Assert.DoesNotContain(socket.Received, f => f.Type() == "step");
    }

    [Fact]
    public async Task InvalidPlanIsSentBackOnceWithTheReason()
    {
        var script = new TeamScript
        {
            Planner = (attempt, _) => attempt == 1
                ? TeamScript.Plan(("a", "astronaut", []))
                : TeamScript.Plan(("a", "researcher", [])),
        };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team explore space");

        Assert.Equal(2, script.PlannerCalls.Count);
        Assert.Contains("astronaut", script.PlannerCalls[1][^1].Text, StringComparison.Ordinal);
        Assert.Equal(ChatRole.Assistant, script.PlannerCalls[1][^2].Role);
        Assert.Equal("final_answer", frames[^1].Type());
    }

    [Theory]
    [InlineData("{\"tasks\": [{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"researcher\", \"depends_on\": [\"b\"]}, {\"task_id\": \"b\", \"title\": \"B\", \"expert\": \"analyst\", \"depends_on\": [\"a\"]}]}", "cycle")]
    [InlineData("{\"tasks\": [{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"researcher\"}, {\"task_id\": \"a\", \"title\": \"B\", \"expert\": \"analyst\"}]}", "twice")]
    [InlineData("{\"tasks\": [{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"researcher\", \"depends_on\": [\"z\"]}]}", "'z'")]
    [InlineData("I would rather not plan.", "JSON")]
    public async Task SecondInvalidPlanEndsTheRunWithLlmErrorSayingWhy(string plan, string reason)
    {
        var script = new TeamScript { Planner = (_, _) => plan };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team something");

        Assert.Equal(2, script.PlannerCalls.Count);
        Assert.DoesNotContain(frames, f => f.Type() == "team_formed");
        Assert.Equal("llm_error", frames[^1].Str("code"));
        Assert.Contains(reason, frames[^1].Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TooManyTasksIsAnInvalidPlan()
    {
        var tasks = Enumerable.Range(1, 4).Select(i => ($"t{i}", "researcher", Array.Empty<string>())).ToArray();
        var script = new TeamScript { Planner = (_, _) => TeamScript.Plan(tasks) };
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Teams:MaxTasks"] = "3" }, model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team big");

        Assert.Contains("at most 3", frames[^1].Str("message"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedTaskCancelsItsDependentsAndTheSynthesisWorksWithTheRest()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("a", "researcher", []), ("b", "analyst", ["a"]), ("c", "writer", []), ("d", "critic", ["b"])),
            Expert = (call, _) => call.TaskId == "a" ? Infrastructure.Stream.Fail("the model fell over") : ScriptedChatClient.Answer($"{call.TaskId} done"),
        };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team partly possible");

        var last = TeamRunTests.Statuses(frames.Last(f => f.Type() == "plan_update"));
        Assert.Equal(new Dictionary<string, string> { ["a"] = "failed", ["b"] = "cancelled", ["c"] = "done", ["d"] = "cancelled" }, last);
        Assert.Equal(["c"], frames.Where(f => f.Type() == "expert_result").Select(f => f.Str("task_id")));
        var synthesisInput = frames.Single(f => f.Type() == "team_synthesis").Str("content")!;
        Assert.Contains("a (researcher): failed: The model failed: the model fell over", synthesisInput, StringComparison.Ordinal);
        Assert.Contains("b (analyst): cancelled", synthesisInput, StringComparison.Ordinal);
        Assert.Equal("completed", frames[^2].Str("reason"));
        Assert.Equal("final_answer", frames[^1].Type());
    }

    [Fact]
    public async Task TaskPastItsTimeoutFails()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("slow", "researcher", []), ("quick", "analyst", [])),
            Expert = (call, ct) => call.TaskId == "slow" ? Infrastructure.Stream.Hang(ct) : ScriptedChatClient.Answer("quick done"),
        };
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Teams:TaskTimeoutSeconds"] = "1" }, model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team race");

        var last = TeamRunTests.Statuses(frames.Last(f => f.Type() == "plan_update"));
        Assert.Equal("failed", last["slow"]);
        Assert.Equal("done", last["quick"]);
        Assert.Contains("timed out", frames.Single(f => f.Type() == "team_synthesis").Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TeamWithNothingDoneDissolvesAsFailedAndEndsWithAnError()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("a", "researcher", []), ("b", "analyst", ["a"])),
            Expert = (_, _) => Infrastructure.Stream.Fail("no luck"),
        };
        await using var server = await ConclaveTestServer.StartAsync(model: script.ToClient());
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team hopeless");

        Assert.DoesNotContain(frames, f => f.Type() is "team_synthesis" or "expert_result");
        Assert.Equal("team_dissolved", frames[^2].Type());
        Assert.Equal("failed", frames[^2].Str("reason"));
        Assert.Equal("error", frames[^1].Type());
        Assert.Equal("llm_error", frames[^1].Str("code"));
        Assert.Contains("no luck", frames[^1].Str("message"), StringComparison.Ordinal);
        Assert.True(frames[^1].TryGetProperty("usage", out _));
    }

    [Fact]
    public async Task ExpertsSeeTheGoalTheirTaskAndTheResultsTheyDependOn()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("facts", "researcher", []), ("essay", "writer", ["facts"])),
            Expert = (call, _) => ScriptedChatClient.Answer(call.TaskId == "facts" ? "water boils at 100 C" : "essay"),
        };
        var client = script.ToClient();
        await using var server = await ConclaveTestServer.StartAsync(model: client);
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.ChatAsync("/team write about water");

        var writer = client.Calls.Single(c => c.Messages[0].Text.Contains("You are writer:", StringComparison.Ordinal)).Messages;
        Assert.Contains("Goal: write about water", writer[1].Text, StringComparison.Ordinal);
        Assert.Contains("Your task (essay)", writer[1].Text, StringComparison.Ordinal);
        Assert.Contains("water boils at 100 C", writer[1].Text, StringComparison.Ordinal);
        Assert.Contains("team's writer", writer[0].Text, StringComparison.Ordinal);
    }
}
