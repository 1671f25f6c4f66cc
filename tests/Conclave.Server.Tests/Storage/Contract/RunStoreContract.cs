using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What every run store must do, whatever the engine behind it (see <see cref="EventStoreContract"/>).</summary>
public abstract class RunStoreContract
{
    // With microseconds, the finest time every engine keeps.
    private static readonly DateTime Start = new DateTime(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc).AddTicks(1_234_560);

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task ABegunRunIsOpenWithItsUserMessageUntilItEnds()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();

        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", "m1", Start), "hello");
        var open = await storage.Runs.ListOpenRunsAsync();
        var history = await storage.Runs.LoadHistoryAsync(session, 10);
        await storage.Runs.EndRunAsync("run_1", RunStatus.Completed);

        // Read back as written: the tenant, and the start to the microsecond, in UTC.
        var run = Assert.Single(open, r => r.RunId == "run_1");
        Assert.Equal((session, "admin", Start, DateTimeKind.Utc), (run.SessionId, run.TenantId, run.StartedAt, run.StartedAt.Kind));
        Assert.Equal([new HistoryMessage(HistoryMessage.User, "hello")], history);
        Assert.DoesNotContain(await storage.Runs.ListOpenRunsAsync(), r => r.RunId == "run_1");
    }

    [Fact]
    public async Task EndingARunMovesItsSessionsUpdatedAtAndNoOtherSessions()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        var other = await storage.NewSessionAsync();
        var before = (await storage.Sessions.FindAsync("admin", session))!.UpdatedAt;
        var otherBefore = (await storage.Sessions.FindAsync("admin", other))!.UpdatedAt;
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start), "hello");

        await storage.Runs.EndRunAsync("run_1", RunStatus.Completed);

        Assert.True((await storage.Sessions.FindAsync("admin", session))!.UpdatedAt > before);
        Assert.Equal(otherBefore, (await storage.Sessions.FindAsync("admin", other))!.UpdatedAt);
    }

    [Fact]
    public async Task AStoredWaitIsReplacedWholeByTheNextAndGoesWhenDeleted()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start), "hello");
        var question = new WaitRequest("req_q", RequestKind.Question, "{\"type\":\"ask_human\"}", 5, null);
        var confirmation = new WaitRequest("req_c", RequestKind.Confirmation, "{\"type\":\"confirmation_request\"}", 3, Start.AddHours(2));
        var later = confirmation with { Announcement = "{}", AnnouncementEventId = 9 };

        await storage.Runs.SaveWaitAsync(new RunWait("run_1", [question, confirmation], "first"));
        var both = Assert.Single(await storage.Runs.ListOpenRunsAsync()).Wait;
        await storage.Runs.SaveWaitAsync(new RunWait("run_1", [later], "second"));
        var one = Assert.Single(await storage.Runs.ListOpenRunsAsync()).Wait;
        await storage.Runs.DeleteWaitAsync("run_1");
        var none = Assert.Single(await storage.Runs.ListOpenRunsAsync()).Wait;

        Assert.Equal("first", both!.Checkpoint);
        Assert.Equal([confirmation, question], both.Requests);
        Assert.Equal("second", one!.Checkpoint);
        Assert.Equal([later], one.Requests);
        Assert.Null(none);
    }

    [Fact]
    public async Task RunsOfALiveInstanceStayItsOwnAndThoseOfADeadOneAreTakenOverOnce()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        var other = await storage.NewSessionAsync();
        await storage.Runs.HeartbeatAsync("instance_a");
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start, OwnerId: "instance_a"), "hello");
        await storage.Runs.BeginRunAsync(new RunRecord("run_2", other, "admin", null, Start), "no owner recorded");
        var aliveSince = DateTime.UtcNow.AddMinutes(-1);

        var whileAlive = await storage.Runs.ClaimOrphanedRunsAsync("instance_b", aliveSince);
        Assert.Equal(["run_2"], whileAlive.Select(r => r.RunId));

        // instance_a falls silent (its last heartbeat is before the cut-off): b, alive, takes its run; c, asking after, finds none.
        await storage.Runs.HeartbeatAsync("instance_b");
        var afterSilence = DateTime.UtcNow.AddSeconds(-0.5);
        await Task.Delay(1_000);
        await storage.Runs.HeartbeatAsync("instance_b");
        var takenByB = await storage.Runs.ClaimOrphanedRunsAsync("instance_b", afterSilence.AddSeconds(1));
        var takenByC = await storage.Runs.ClaimOrphanedRunsAsync("instance_c", afterSilence.AddSeconds(1));

        Assert.Equal(["run_1"], takenByB.Select(r => r.RunId));
        Assert.Equal(session, takenByB[0].SessionId);
        Assert.Empty(takenByC);
    }

    [Fact]
    public async Task AnInstanceFindsWhichOfItsRunsAreStillItsOwnAndWhichWereTakenOver()
    {
        await using var storage = await StartAsync();
        var first = await storage.NewSessionAsync();
        var second = await storage.NewSessionAsync();
        var ended = await storage.NewSessionAsync();
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", first, "admin", null, Start, OwnerId: "instance_a"), "hello");
        await storage.Runs.BeginRunAsync(new RunRecord("run_2", second, "admin", null, Start, OwnerId: "instance_a"), "hello");
        await storage.Runs.BeginRunAsync(new RunRecord("run_ended", ended, "admin", null, Start, OwnerId: "instance_a"), "hello");
        await storage.Runs.EndRunAsync("run_ended", RunStatus.Completed);

        string[] askedAbout = ["run_1", "run_2", "run_ended", "run_unknown"];
        Assert.Equal(["run_1", "run_2"], (await storage.Runs.ListOwnedOpenRunsAsync("instance_a", askedAbout)).Select(r => r.RunId).Order());
        Assert.Empty(await storage.Runs.FindTakenOverAsync("instance_a", askedAbout));

        // instance_a falls silent: b takes both open runs of it.
        await storage.Runs.HeartbeatAsync("instance_a");
        await Task.Delay(1_100);
        await storage.Runs.HeartbeatAsync("instance_b");
        Assert.Equal(2, (await storage.Runs.ClaimOrphanedRunsAsync("instance_b", DateTime.UtcNow.AddSeconds(-0.5))).Count);

        Assert.Equal(["run_1", "run_2"], (await storage.Runs.FindTakenOverAsync("instance_a", askedAbout)).Order());
        Assert.Empty(await storage.Runs.ListOwnedOpenRunsAsync("instance_a", askedAbout));
        Assert.Equal(["run_1", "run_2"], (await storage.Runs.ListOwnedOpenRunsAsync("instance_b", askedAbout)).Select(r => r.RunId).Order());
        Assert.Empty(await storage.Runs.ListOwnedOpenRunsAsync("instance_b", []));
    }

    [Fact]
    public async Task InstancesClaimingAtOnceTakeEachOrphanedRunOnce()
    {
        await using var storage = await StartAsync();
        var sessions = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            sessions.Add(await storage.NewSessionAsync());
            await storage.Runs.BeginRunAsync(new RunRecord($"run_{i}", sessions[^1], "admin", null, Start, OwnerId: "gone"), "hello");
        }

        // Four live instances find the same orphans at once; each run goes to one of them.
        var aliveSince = DateTime.UtcNow.AddMinutes(-1);
        for (var i = 0; i < 4; i++)
        {
            await storage.Runs.HeartbeatAsync($"instance_{i}");
        }

        var claims = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => storage.Runs.ClaimOrphanedRunsAsync($"instance_{i}", aliveSince)));

        var taken = claims.SelectMany(c => c.Select(r => r.RunId)).Order().ToList();
        Assert.Equal(Enumerable.Range(0, 6).Select(i => $"run_{i}").Order(), taken);
    }

    [Fact]
    public async Task ASessionHoldsOneRunningRunAtATime()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start), "hello");

        await Assert.ThrowsAsync<RunInProgressException>(
            () => storage.Runs.BeginRunAsync(new RunRecord("run_2", session, "admin", null, Start), "again"));
        await storage.Runs.EndRunAsync("run_1", RunStatus.Completed);
        await storage.Runs.BeginRunAsync(new RunRecord("run_3", session, "admin", null, Start), "now");

        Assert.Equal("run_3", (await storage.Runs.FindOpenRunAsync(session))?.RunId);
        Assert.Equal(
            [new HistoryMessage(HistoryMessage.User, "hello"), new HistoryMessage(HistoryMessage.User, "now")],
            await storage.Runs.LoadHistoryAsync(session, 10));
    }

    [Fact]
    public async Task RunsBegunAtOnceAreAllRecordedAndOnlyTheRefusedOnesFail()
    {
        await using var storage = await StartAsync();
        var sessions = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            sessions.Add(await storage.NewSessionAsync());
        }

        await storage.Runs.BeginRunAsync(new RunRecord("run_held", sessions[7], "admin", null, Start), "first");

        // Writes that arrive together share a transaction; a refused one must not take the others with it.
        var begins = sessions.Select((session, i) => storage.Runs.BeginRunAsync(new RunRecord($"run_{i}", session, "admin", null, Start), $"hello {i}")).ToList();
        var gone = storage.Runs.BeginRunAsync(new RunRecord("run_gone", "0123456789abcdef0123456789abcdef", "admin", null, Start), "hello");
        var ended = storage.Runs.EndRunAsync("run_held", RunStatus.Completed);
        await Assert.ThrowsAsync<SessionGoneException>(() => gone);
        await ended;
        var outcomes = await Task.WhenAll(begins.Select(async b =>
        {
            try
            {
                await b;
                return null;
            }
            catch (RunInProgressException ex)
            {
                return ex;
            }
        }));

        // run_7 met run_held either still running (refused) or already ended (recorded): never anything else.
        var open = (await storage.Runs.ListOpenRunsAsync()).Select(r => r.RunId).ToHashSet();
        for (var i = 0; i < sessions.Count; i++)
        {
            var recorded = outcomes[i] is null;
            Assert.True(recorded || i == 7, $"run_{i} was refused");
            Assert.Equal(recorded, open.Contains($"run_{i}"));
            Assert.Equal(recorded, (await storage.Runs.LoadHistoryAsync(sessions[i], 10)).Contains(new HistoryMessage(HistoryMessage.User, $"hello {i}")));
        }

        Assert.DoesNotContain("run_held", open);
        Assert.DoesNotContain("run_gone", open);
    }

    [Fact]
    public async Task ARunStartedAsTheSessionsRunEndsStartsOrIsRefusedAsInProgressNeverFailsOtherwise()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();

        // The start is queued before the end: the index refuses it, and the end may commit before the refusal is looked
        // into. Either way the start is recorded or refused as in progress.
        for (var i = 0; i < 50; i++)
        {
            await storage.Runs.BeginRunAsync(new RunRecord($"run_{i}_held", session, "admin", null, Start), "first");
            var next = storage.Runs.BeginRunAsync(new RunRecord($"run_{i}", session, "admin", null, Start), "next");
            await storage.Runs.EndRunAsync($"run_{i}_held", RunStatus.Completed);
            try
            {
                await next;
                await storage.Runs.EndRunAsync($"run_{i}", RunStatus.Completed);
            }
            catch (RunInProgressException)
            {
            }

            Assert.Null(await storage.Runs.FindOpenRunAsync(session));
        }
    }

    [Fact]
    public async Task ASessionsOpenRunIsFoundWithItsWaitAndNotOnceItEnded()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        var other = await storage.NewSessionAsync();
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start), "hello");
        await storage.Runs.BeginRunAsync(new RunRecord("run_2", other, "admin", null, Start), "hello");
        var question = new WaitRequest("req_q", RequestKind.Question, "{\"type\":\"ask_human\"}", 5, null);
        await storage.Runs.SaveWaitAsync(new RunWait("run_1", [question], "checkpoint"));

        var found = await storage.Runs.FindOpenRunAsync(session);
        await storage.Runs.EndRunAsync("run_1", RunStatus.Completed);

        Assert.Equal("run_1", found?.RunId);
        Assert.Equal([question], found!.Wait!.Requests);
        Assert.Null(await storage.Runs.FindOpenRunAsync(session));
        Assert.Equal("run_2", (await storage.Runs.FindOpenRunAsync(other))?.RunId);
    }

    [Fact]
    public async Task RecordedUsageOnlyGrowsAndAnOpenRunReportsIt()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        await storage.Runs.BeginRunAsync(new RunRecord("run_1", session, "admin", null, Start), "hello");

        await storage.Runs.RecordUsageAsync("run_1", new Usage(10, 5), atEventId: 7);
        await storage.Runs.RecordUsageAsync("run_1", new Usage(30, 20), atEventId: 40);
        await storage.Runs.RecordUsageAsync("run_1", new Usage(12, 9), atEventId: 9); // a concurrent expert's older total

        var open = Assert.Single(await storage.Runs.ListOpenRunsAsync());
        Assert.Equal(new Usage(30, 20), open.Usage);
        Assert.Equal(40, open.UsageAtEventId);
    }

    [Fact]
    public async Task ARunOnASessionThatDoesNotExistIsRefusedAsGone()
    {
        await using var storage = await StartAsync();

        await Assert.ThrowsAsync<SessionGoneException>(
            () => storage.Runs.BeginRunAsync(new RunRecord("run_1", "0123456789abcdef0123456789abcdef", "admin", null, Start), "hello"));
        Assert.Empty(await storage.Runs.ListOpenRunsAsync());
    }

    [Fact]
    public async Task OpenRunsAreListedOldestFirstWhateverTheyEndedWith()
    {
        await using var storage = await StartAsync();
        var sessions = new[] { await storage.NewSessionAsync(), await storage.NewSessionAsync(), await storage.NewSessionAsync(), await storage.NewSessionAsync() };
        for (var i = 0; i < sessions.Length; i++)
        {
            await storage.Runs.BeginRunAsync(new RunRecord($"run_{i}", sessions[i], "admin", null, Start.AddSeconds(10 - i)), "go");
        }

        await storage.Runs.EndRunAsync("run_0", RunStatus.Failed);
        await storage.Runs.EndRunAsync("run_2", RunStatus.Cancelled);

        Assert.Equal(["run_3", "run_1"], (await storage.Runs.ListOpenRunsAsync()).Select(r => r.RunId));
    }

    [Fact]
    public async Task HistoryIsTheNewestUserAndAssistantMessagesOldestFirstWithoutToolResults()
    {
        await using var storage = await StartAsync();
        var session = await storage.NewSessionAsync();
        for (var turn = 1; turn <= 4; turn++)
        {
            await storage.Runs.BeginRunAsync(new RunRecord($"run_{turn}", session, "admin", null, Start.AddMinutes(turn)), $"question {turn}");
            await storage.Runs.AppendMessageAsync(session, $"run_{turn}", new HistoryMessage(HistoryMessage.ToolRole, $"result {turn}", "calculator"));
            await storage.Runs.AppendMessageAsync(session, $"run_{turn}", new HistoryMessage(HistoryMessage.Assistant, $"answer {turn}"));
            await storage.Runs.EndRunAsync($"run_{turn}", RunStatus.Completed);
        }

        var history = await storage.Runs.LoadHistoryAsync(session, 3);

        Assert.Equal(
            [new(HistoryMessage.Assistant, "answer 3"), new(HistoryMessage.User, "question 4"), new HistoryMessage(HistoryMessage.Assistant, "answer 4")],
            history);
    }
}
