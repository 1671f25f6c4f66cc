using Conclave.Server.Tests.Infrastructure;
using Conclave.Server.Tests.Models;

namespace Conclave.Server.Tests.Teams;

/// <summary>Team runs against an OpenAI-compatible endpoint replayed on the wire, one that answers every request as a stream.</summary>
public sealed class TeamOnProviderTests
{
    private static readonly OpenAIWire Wire = new();

    [Fact]
    public async Task TeamRunsOnAnEndpointThatOnlyStreamsWithThePlanInAJsonFence()
    {
        const string plan = "Here is the plan.\n```json\n{\"tasks\": [{\"task_id\": \"a\", \"title\": \"Find out\", \"expert\": \"researcher\"}]}\n```\n"
            + "The researcher {alone} will do.";
        await using var provider = await ReplayServer.StartAsync(Streamed(plan), Streamed("found it"), Streamed("the synthesis"));
        await using var server = await ConclaveTestServer.StartAsync(Wire.Settings(provider.BaseUri));
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team find out");

        Assert.Equal("final_answer", frames[^1].Type());
        Assert.Equal("the synthesis", frames[^1].Str("content"));
        Assert.Equal("found it", frames.Single(f => f.Type() == "expert_result").Str("content"));
        Assert.Equal(3, provider.Requests.Count);
    }

    [Fact]
    public async Task PlannerAnsweringProseEndsTheRunSayingInWordsThatItWasNotAPlan()
    {
        await using var provider = await ReplayServer.StartAsync(
            Streamed("I think the researcher should look into it first."), Streamed("Sure: the researcher looks, then the writer writes."));
        await using var server = await ConclaveTestServer.StartAsync(Wire.Settings(provider.BaseUri));
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team find out");

        Assert.DoesNotContain(frames, f => f.Type() == "team_formed");
        var error = frames[^1];
        Assert.Equal("llm_error", error.Str("code"));
        Assert.Equal(
            "The planner's answer was not a plan: the answer holds no JSON object with a \"tasks\" list (after one more try).", error.Str("message"));
        Assert.Equal(2, provider.Requests.Count);
    }

    private static ReplayResponse Streamed(string text) => new(200, Wire.ContentType, Wire.Text([text], 10, 5));
}
