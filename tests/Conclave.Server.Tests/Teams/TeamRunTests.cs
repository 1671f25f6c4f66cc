using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Teams;

public sealed class TeamRunTests
{
    [Fact]
    public async Task BuiltinTeamRunSendsTheTeamEventsInOrderAndAnswersWithTheSynthesis()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("/team stream 5 words");

        Assert.Equal(Enumerable.Range(1, frames.Count).Select(i => (long)i), frames.Select(f => f.EventId()));
        var formed = frames[0];
        Assert.Equal("team_formed", formed.Type());
        var teamId = formed.Str("team_id");
        Assert.Equal("stream 5 words", formed.Str("goal"));
        Assert.Equal(["researcher", "analyst", "writer"], formed.GetProperty("experts").EnumerateArray().Select(e => e.Str("name")));
        Assert.All(formed.GetProperty("experts").EnumerateArray(), e => Assert.False(string.IsNullOrEmpty(e.Str("role"))));

        var plans = frames.Where(f => f.Type() == "plan_update").Select(Statuses).ToList();
        Assert.Equal(new Dictionary<string, string> { ["research"] = "pending", ["analysis"] = "pending", ["writing"] = "pending" }, plans[0]);
        Assert.Equal("running", plans[1]["research"]);
        Assert.Equal("running", plans[1]["analysis"]);
        Assert.Equal("pending", plans[1]["writing"]);
        Assert.All(plans[^1].Values, s => Assert.Equal("done", s));
        var writing = frames[0].GetProperty("experts");
        var planTask = frames.First(f => f.Type() == "plan_update").GetProperty("plan").EnumerateArray().Single(t => t.Str("task_id") == "writing");
        Assert.Equal(["research", "analysis"], planTask.GetProperty("depends_on").EnumerateArray().Select(d => d.GetString()));

        var results = frames.Where(f => f.Type() == "expert_result").ToList();
        Assert.Equal(3, results.Count);
        Assert.All(results, r => Assert.Equal("word1 word2 word3 word4 word5", r.Str("content")));
        foreach (var task in new[] { "research", "analysis", "writing" })
        {
            var steps = frames.Where(f => f.Type() == "expert_step" && f.Str("task_id") == task).ToList();
            Assert.True(steps.Count >= 2);
            Assert.Contains(steps, s => s.Str("kind") == "thinking");
            Assert.Equal("word1 word2 word3 word4 word5", string.Concat(steps.Where(s => s.Str("kind") == "token").Select(s => s.Str("content"))));
            Assert.All(steps, s => Assert.Equal(teamId, s.Str("team_id")));
        }

        Assert.DoesNotContain(frames, f => f.Type() is "token" or "step" or "thinking");
        var synthesis = frames[^3];
        Assert.Equal("team_synthesis", synthesis.Type());
        foreach (var task in new[] { "research", "analysis", "writing" })
        {
            Assert.Contains(task, synthesis.Str("content"), StringComparison.Ordinal);
        }

        Assert.Equal("team_dissolved", frames[^2].Type());
        Assert.Equal("completed", frames[^2].Str("reason"));
        var final = frames[^1];
        Assert.Equal("final_answer", final.Type());
        Assert.Equal(synthesis.Str("content"), final.Str("content"));

        var messages = await server.Http.GetFromJsonAsync<JsonElement>($"/api/v1/sessions/{session}/messages");
        var history = messages.EnumerateArray().Where(m => m.Str("role") != "tool").ToList();
        Assert.Equal(["user", "assistant"], history.Select(m => m.Str("role")));
        Assert.Equal("/team stream 5 words", history[0].Str("content"));
        Assert.Equal(final.Str("content"), history[1].Str("content"));
    }

    [Fact]
    public async Task UsageIsSummedOverPlannerExpertsAndSynthesis()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var single = await socket.ChatAsync("stream 5 words");
        var team = await socket.ChatAsync("/team stream 5 words");

        var singleOut = single[^1].GetProperty("usage").GetProperty("output_tokens").GetInt64();
        var teamOut = team[^1].GetProperty("usage").GetProperty("output_tokens").GetInt64();
        Assert.Equal(5, singleOut);
        // Three experts stream 5 words each, and the planner and the synthesis add theirs.
        Assert.True(teamOut > 3 * singleOut, $"team output tokens {teamOut}");
    }

    [Fact]
    public async Task ModeTeamAndATeamSkillStartTeamsAndModeSingleDoesNot()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "crew", description = "", keywords = new[] { "crew" }, instructions = "Work as a crew.", mode = "team" });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = "stream 2 words", mode = "team" });
        var byMode = await socket.ReceiveRunEndAsync();
        var bySkill = await socket.ChatAsync("crew: stream 2 words");
        await socket.SendAsync(new { type = "message", content = "/team stream 2 words", mode = "single" });
        var single = await socket.ReceiveRunEndAsync();

        Assert.Equal("team_formed", byMode[0].Type());
        Assert.Equal("stream 2 words", byMode[0].Str("goal"));
        Assert.Equal("skill_match", bySkill[0].Type());
        Assert.Equal("team_formed", bySkill[1].Type());
        Assert.DoesNotContain(single, f => f.Type() == "team_formed");
    }

    [Fact]
    public async Task IndependentTasksOverlapAndADependentTaskWaitsForBoth()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "10",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team stream 20 words");

        int First(string task) => frames.FindIndex(f => f.Type() == "expert_step" && f.Str("task_id") == task);
        int Result(string task) => frames.FindIndex(f => f.Type() == "expert_result" && f.Str("task_id") == task);
        Assert.True(First("research") < Result("analysis") && First("analysis") < Result("research"), "research and analysis did not overlap");
        Assert.True(First("writing") > Result("research") && First("writing") > Result("analysis"), "writing started before its dependencies were done");
    }

    [Fact]
    public async Task ConveneTeamToolRunsATeamInsideASingleRun()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("use tool convene_team {\"goal\": \"stream 3 words\"}");

        var types = frames.Select(f => f.Type()).ToList();
        var start = types.IndexOf("step");
        Assert.True(start < types.IndexOf("team_formed"));
        Assert.True(types.IndexOf("team_dissolved") < types.LastIndexOf("step"));
        var end = frames.Last(f => f.Type() == "step");
        var synthesis = frames.Single(f => f.Type() == "team_synthesis").Str("content");
        Assert.Equal(synthesis, end.Str("result"));
        Assert.Equal($"Tool convene_team returned: {synthesis}", frames[^1].Str("content"));
    }

    [Fact]
    public async Task CancelInTheMiddleOfATeamCancelsEveryTaskAndDissolvesTheTeam()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "50",
        });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());
        await socket.SendAsync(new { type = "message", content = "/team stream 1000 words" });
        await socket.ReceiveUntilAsync(f => f.Type() == "expert_step" && f.Str("kind") == "token");

        var watch = System.Diagnostics.Stopwatch.StartNew();
        await socket.SendAsync(new { type = "cancel" });
        var rest = await socket.ReceiveRunEndAsync();
        watch.Stop();

        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"cancel took {watch.ElapsedMilliseconds} ms");
        Assert.Equal(["plan_update", "team_dissolved", "error"], rest.SkipWhile(f => f.Type() != "plan_update" || Statuses(f).Values.All(s => s != "cancelled")).Select(f => f.Type()));
        Assert.All(Statuses(rest[^3]).Values, s => Assert.Equal("cancelled", s));
        Assert.Equal("cancelled", rest[^2].Str("reason"));
        Assert.Equal("cancelled", rest[^1].Str("code"));
    }

    [Fact]
    public async Task ResumeInTheMiddleOfATeamMissesNothing()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "3",
        });
        var session = await server.CreateSessionAsync();
        var seen = new List<JsonElement>();
        var first = await server.ConnectAsync(session);
        await first.SendAsync(new { type = "message", content = "/team stream 60 words" });
        seen.AddRange(await first.ReceiveUntilAsync(f => f.Type() == "expert_result"));
        first.Socket.Abort();
        first.Socket.Dispose();

        await using var second = await server.ConnectAsync(session, lastEventId: seen[^1].EventId());
        seen.AddRange(await second.ReceiveRunEndAsync());

        Assert.Equal(Enumerable.Range(1, seen.Count).Select(i => (long)i), seen.Select(f => f.EventId()));
        Assert.Equal(3, seen.Count(f => f.Type() == "expert_result"));
        Assert.Equal("final_answer", seen[^1].Type());
    }

    internal static Dictionary<string, string> Statuses(JsonElement planUpdate) =>
        planUpdate.GetProperty("plan").EnumerateArray().ToDictionary(t => t.Str("task_id")!, t => t.Str("status")!);
}
