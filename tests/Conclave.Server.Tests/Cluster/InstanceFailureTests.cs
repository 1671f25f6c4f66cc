using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Cluster;

/// <summary>
/// An instance killed (<c>kill -9</c> of a real server process) while the service goes on in another: its streaming run
/// is ended by the survivor, its waiting run is taken up there, and its clients resume there without loss.
/// </summary>
[Trait("Category", "Cluster")]
public sealed class InstanceFailureTests
{
    // A short lease, so that a takeover comes within seconds: an instance is dead after 3 s unheard.
    private static readonly Dictionary<string, string?> FastLease = new()
    {
        ["Conclave:Cluster:HeartbeatSeconds"] = "1",
        ["Conclave:Cluster:OwnerTimeoutSeconds"] = "3",
        ["Conclave:Auth:AdminKey"] = ConclaveTestServer.AdminKey,
    };

    [Fact]
    public async Task AnInstanceKilledMidStreamHasItsRunEndedByTheSurvivorAndItsClientResumesThereWithoutLoss()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = TwoInstances.SettingsFor(database, new Dictionary<string, string?>(FastLease) { ["Conclave:Llm:Builtin:TokenDelayMs"] = "2" });
        using var dataA = new TempDataDir();
        await using var a = await ServerProcess.StartAsync(dataA.Path, TwoInstances.AsEnvironment(settings));
        await using var b = await ConclaveTestServer.StartAsync(settings);

        var (onA, session) = await a.OpenSessionAsync();
        await using var openA = onA;
        await using var onB = await b.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onB.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 200);
        await a.KillAsync();
        var receivedOnA = await onA.ReceiveUntilGoneAsync();

        // The survivor ends the run: one terminal error, internal and retryable, after the lease ran out.
        var rest = await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(15));
        var end = rest[^1];
        Assert.Equal("error", end.Type());
        Assert.Equal("internal", end.Str("code"));
        Assert.True(end.GetProperty("retryable").GetBoolean());
        Assert.True(end.GetProperty("usage").GetProperty("output_tokens").GetInt64() > 0);
        var watched = onB.Received.Skip(1).ToList();
        Assert.Equal(Enumerable.Range(1, watched.Count).Select(i => (long)i), watched.Select(f => f.EventId()));

        // A's client resumes on B from the last event it had: every event it saw is there, unchanged, then the same end.
        var lastOnA = receivedOnA[^1].EventId();
        await using var resumed = await b.ConnectAsync(session, lastEventId: lastOnA);
        var after = await resumed.ReceiveRunEndAsync();
        Assert.Equal(lastOnA + 1, after[0].EventId());
        Assert.Equal(end.GetRawText(), after[^1].GetRawText());
        var byId = watched.ToDictionary(f => f.EventId(), f => f.GetRawText());
        Assert.All(receivedOnA, f => Assert.Equal(byId[f.EventId()], f.GetRawText()));

        Assert.Equal("final_answer", (await onB.ChatAsync("stream 3 words"))[^1].Type());
    }

    [Fact]
    public async Task AnInstanceKilledWhileItsRunWaitsForApprovalHasTheRunApprovedOnTheSurvivor()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var settings = TwoInstances.SettingsFor(database, FastLease);
        using var dataA = new TempDataDir();
        await using var a = await ServerProcess.StartAsync(dataA.Path, TwoInstances.AsEnvironment(settings));
        await using var b = await ConclaveTestServer.StartAsync(settings);

        var (onA, session) = await a.OpenSessionAsync();
        await using var openA = onA;
        await onA.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"x.txt\", \"content\": \"1\"}" });
        var request = await onA.ReceiveTypeAsync("confirmation_request");
        await a.KillAsync();

        // Answered on B at once: the answer waits until B has taken the run up, then lands.
        await using var onB = await b.ConnectAsync(session);
        Assert.Equal(request.Str("run_id"), onB.Connected.Str("active_run_id"));
        await onB.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var end = (await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(20)))[^1];

        Assert.Equal("final_answer", end.Type());
        Assert.StartsWith("Tool write_file returned:", end.Str("content"), StringComparison.Ordinal);
        Assert.Equal(request.Str("run_id"), end.Str("run_id"));
    }

    [Fact]
    public async Task AnInstanceCutOffFromTheDatabaseStopsItsRunBeforeAnotherTakesItOverAndServesAgainWhenBack()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var role = $"instance_a_{Guid.NewGuid():N}"[..24];
        var settings = TwoInstances.SettingsFor(database, new Dictionary<string, string?>(FastLease) { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        var settingsA = new Dictionary<string, string?>(settings) { ["Conclave:Storage:ConnectionString"] = await database.ConnectionStringForNewRoleAsync(role) };
        await using var a = await ConclaveTestServer.StartAsync(settingsA);
        await using var b = await ConclaveTestServer.StartAsync(settings);
        var session = await a.CreateSessionAsync();
        await using var onA = await a.ConnectAsync(session);
        await using var onB = await b.ConnectAsync(session);
        await onA.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onB.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 100);

        // A loses the database: it stops its run before its lease could lapse (fencing), and B, not hearing from A,
        // ends the run; then A is back.
        var coordinator = a.Services.GetRequiredService<Conclave.Agents.Runs.RunCoordinator>();
        await database.CutOffRoleAsync(role);
        List<JsonElement> rest;
        bool stoppedWhileCutOff;
        try
        {
            rest = await onB.ReceiveRunEndAsync(TimeSpan.FromSeconds(20));
            stoppedWhileCutOff = await EventuallyAsync(() => coordinator.ListActive().Count == 0, TimeSpan.FromSeconds(10));
        }
        finally
        {
            await database.RestoreRoleAsync(role);
        }

        var end = rest[^1];
        Assert.Equal("internal", end.Str("code"));
        Assert.True(stoppedWhileCutOff, "A still ran the run after B took it over");

        // A runs the session's next run (the stopped run's queued events, whose ids are B's, were dropped).
        await using var again = await a.ConnectAsync(session);
        var next = await again.ChatAsync("stream 3 words", TimeSpan.FromSeconds(20));
        Assert.Equal("final_answer", next[^1].Type());
        Assert.Equal(end.EventId() + 1, next[0].EventId());
        var watched = onB.Received.Skip(1).ToList();
        Assert.Single(watched, f => f.IsTerminal() && f.Str("run_id") == end.Str("run_id"));
    }

    [Fact]
    public async Task AnInstanceAloneCutOffFromTheDatabaseStopsItsRunsAndTakesThemBackWhenItIsBack()
    {
        await using var database = await PostgresDatabase.CreateAsync();
        var role = $"instance_a_{Guid.NewGuid():N}"[..24];
        var settings = TwoInstances.SettingsFor(database, new Dictionary<string, string?>(FastLease) { ["Conclave:Llm:Builtin:TokenDelayMs"] = "5" });
        settings["Conclave:Storage:ConnectionString"] = await database.ConnectionStringForNewRoleAsync(role);
        await using var a = await ConclaveTestServer.StartAsync(settings);
        var coordinator = a.Services.GetRequiredService<Conclave.Agents.Runs.RunCoordinator>();
        var streaming = await a.CreateSessionAsync();
        var waiting = await a.CreateSessionAsync();
        await using var onStreaming = await a.ConnectAsync(streaming);
        await using var onWaiting = await a.ConnectAsync(waiting);
        await onWaiting.SendAsync(new { type = "message", content = "use tool write_file {\"path\": \"x.txt\", \"content\": \"1\"}" });
        var request = await onWaiting.ReceiveTypeAsync("confirmation_request");
        await onStreaming.SendAsync(new { type = "message", content = "stream 100000 words" });
        await onStreaming.ReceiveUntilAsync(f => f.Type() == "token" && f.EventId() >= 50);

        // Cut off: A cannot know that no other instance takes its runs, so it stops both before its lease runs out.
        await database.CutOffRoleAsync(role);
        bool stoppedWhileCutOff;
        try
        {
            stoppedWhileCutOff = await EventuallyAsync(() => coordinator.ListActive().Count == 0, TimeSpan.FromSeconds(15));
        }
        finally
        {
            await database.RestoreRoleAsync(role);
        }

        Assert.True(stoppedWhileCutOff, "A still ran its runs with the database out of reach past its lease");

        // Back, A takes them back as any instance takes over runs left open: the streaming one ends with error
        // internal, the waiting one waits again under the same request, and an answer lets it go on.
        var end = (await onStreaming.ReceiveRunEndAsync(TimeSpan.FromSeconds(20)))[^1];
        Assert.Equal("error", end.Type());
        Assert.Equal("internal", end.Str("code"));
        Assert.True(await EventuallyAsync(() => coordinator.ListActive().Any(r => r.RunId == request.Str("run_id")), TimeSpan.FromSeconds(20)));
        await onWaiting.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var answered = (await onWaiting.ReceiveRunEndAsync(TimeSpan.FromSeconds(20)))[^1];
        Assert.Equal("final_answer", answered.Type());
        Assert.Equal(request.Str("run_id"), answered.Str("run_id"));
    }

    private static async Task<bool> EventuallyAsync(Func<bool> condition, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(100);
        }

        return true;
    }
}
