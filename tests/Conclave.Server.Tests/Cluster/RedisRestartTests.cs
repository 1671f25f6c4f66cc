using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Cluster;

/// <summary>Runs alone: it stops the Redis server that the other tests of several instances share.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RedisOutageCollection
{
    public const string Name = "Redis outage";
}

/// <summary>The real Redis server restarted while a run streams on one instance and a socket watches it on another.</summary>
[Trait("Category", "Cluster")]
[Collection(RedisOutageCollection.Name)]
public sealed class RedisRestartTests
{
    [Fact]
    public async Task RedisRestartedMidRunLosesNothingAndTheWatcherSeesTheRunEnd()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await using var onB = await cluster.B.ConnectAsync(session);
        using var anonymous = cluster.B.CreateClient(key: null);
        Assert.Equal("ok", (await anonymous.GetFromJsonAsync<JsonElement>("/readyz")).Str("redis"));

        await onA.SendAsync(new { type = "message", content = "stream 800 words" });
        await onB.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 100);
        await RedisServer.StopAsync();
        try
        {
            // Down: B is not ready, and the run goes on on A.
            await onA.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 300);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await anonymous.GetAsync("/readyz")).StatusCode);
        }
        finally
        {
            await RedisServer.StartAsync();
        }

        await onA.ReceiveRunEndAsync();
        await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(30));
        var sent = onA.Received.Skip(1).ToList();
        var watched = onB.Received.Skip(1).ToList();

        Assert.Equal(sent.Select(f => f.GetRawText()), watched.Select(f => f.GetRawText()));
        Assert.Equal("final_answer", watched[^1].Type());
    }

    [Fact]
    public async Task ARunThatEndsWhileRedisIsDownShowsItsEndOnTheOtherInstanceOnceRedisIsBack()
    {
        await using var cluster = await TwoInstances.StartAsync(new Dictionary<string, string?> { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        var session = await cluster.A.CreateSessionAsync();
        await using var onA = await cluster.A.ConnectAsync(session);
        await using var onB = await cluster.B.ConnectAsync(session);

        await onA.SendAsync(new { type = "message", content = "stream 200 words" });
        await onB.ReceiveTypeAsync("token");
        await RedisServer.StopAsync();
        try
        {
            await onA.ReceiveRunEndAsync();
        }
        finally
        {
            await RedisServer.StartAsync();
        }

        var rest = await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(onA.Received[^1].GetRawText(), rest[^1].GetRawText());
        Assert.Equal(onA.Received.Skip(1).Select(f => f.EventId()), onB.Received.Skip(1).Select(f => f.EventId()));
    }
}

/// <summary>The Redis server of the test run (<c>tests/infra/redis.sh</c>), stopped and started again as an operator would.</summary>
internal static class RedisServer
{
    public static async Task StopAsync()
    {
        var port = Environment.GetEnvironmentVariable(TwoInstances.RedisVariable)!.Split(':')[^1];
        await RunAsync("redis-cli", "-p", port, "shutdown", "nosave");
    }

    public static async Task StartAsync()
    {
        var start = Environment.GetEnvironmentVariable("CONCLAVE_TEST_REDIS_START")
            ?? throw new InvalidOperationException("CONCLAVE_TEST_REDIS_START is not set: ./test.sh sets it with CONCLAVE_TEST_REDIS.");
        await RunAsync("bash", "-c", start);
        var port = Environment.GetEnvironmentVariable(TwoInstances.RedisVariable)!.Split(':')[^1];
        for (var i = 0; i < 100 && await RunAsync("redis-cli", "-p", port, "ping") != 0; i++)
        {
            await Task.Delay(100);
        }
    }

    private static async Task<int> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        await process.WaitForExitAsync();
        return process.ExitCode;
    }
}
