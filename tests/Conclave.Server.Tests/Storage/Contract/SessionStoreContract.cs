using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Storage;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What every session store must do, whatever the engine behind it.</summary>
public abstract class SessionStoreContract
{
    private static readonly DateTime At = new(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc);

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task ASessionIsFoundByItsTenantOnlyAndListedNewestFirstInPages()
    {
        await using var storage = await StartAsync();
        var sessions = Enumerable.Range(1, 5).Select(i => new SessionRecord($"s{i:D2}", "t1", $"title {i}", "{\"k\":1}", At.AddMinutes(i), At.AddMinutes(i))).ToList();
        foreach (var session in sessions)
        {
            await storage.Sessions.AddAsync(session);
        }

        await storage.Sessions.AddAsync(new SessionRecord("s99", "t2", null, null, At, At));

        Assert.Equal(sessions[2], await storage.Sessions.FindAsync("t1", "s03"));
        Assert.Null(await storage.Sessions.FindAsync("t2", "s03"));
        Assert.Equal(["s05", "s04"], (await storage.Sessions.ListAsync("t1", null, 2)).Select(s => s.Id));
        Assert.Equal(["s03", "s02"], (await storage.Sessions.ListAsync("t1", "s04", 2)).Select(s => s.Id));
        Assert.Equal(["s99"], (await storage.Sessions.ListAsync("t2", null, 10)).Select(s => s.Id));
    }

    [Fact]
    public async Task AnUpdateChangesTitleMetadataAndTimeOfTheTenantsSessionOnly()
    {
        await using var storage = await StartAsync();
        var session = new SessionRecord("s01", "t1", "old", "{\"k\":1}", At, At);
        await storage.Sessions.AddAsync(session);
        var both = new SessionChange(SetsTitle: true, Title: null, SetsMetadata: true, Metadata: "{\"k\":2}");

        Assert.Null(await storage.Sessions.UpdateAsync("t2", "s01", both, At.AddHours(1)));
        Assert.Equal(session, await storage.Sessions.FindAsync("t1", "s01"));
        var expected = session with { Title = null, Metadata = "{\"k\":2}", UpdatedAt = At.AddHours(1) };
        Assert.Equal(expected, await storage.Sessions.UpdateAsync("t1", "s01", both, At.AddHours(1)));
        Assert.Equal(expected, await storage.Sessions.FindAsync("t1", "s01"));
        Assert.Null(await storage.Sessions.UpdateAsync("t1", "missing", both, At.AddHours(1)));
    }

    [Fact]
    public async Task AChangeOfOneFieldLeavesTheOtherAsStored()
    {
        // Two clients at once, one renaming the session and one changing its metadata: both changes hold.
        await using var storage = await StartAsync();
        await storage.Sessions.AddAsync(new SessionRecord("s01", "t1", "old", "{\"k\":1}", At, At));

        await storage.Sessions.UpdateAsync("t1", "s01", new SessionChange(false, null, true, "{\"k\":2}"), At.AddHours(1));
        var renamed = await storage.Sessions.UpdateAsync("t1", "s01", new SessionChange(true, "new", false, null), At.AddHours(2));

        Assert.Equal(new SessionRecord("s01", "t1", "new", "{\"k\":2}", At, At.AddHours(2)), renamed);
    }

    [Fact]
    public async Task RemovingASessionThenItsDataLeavesNothingOfItAndTouchesNoOtherSession()
    {
        await using var storage = await StartAsync();
        var gone = await storage.NewSessionAsync();
        var kept = await storage.NewSessionAsync();
        foreach (var session in new[] { gone, kept })
        {
            await storage.Runs.BeginRunAsync(new RunRecord($"run_{session}", session, "admin", null, At), "hello");
            await storage.Runs.SaveWaitAsync(new RunWait($"run_{session}", [new WaitRequest("req", RequestKind.Question, "{}", 1, null)], "{}"));
            await storage.Events.AppendAsync([new SessionEvent(session, 1, $"run_{session}", "token", "{}"u8.ToArray())]);
        }

        await storage.Sessions.RemoveAsync(gone);
        var foundAfterRemove = await storage.Sessions.FindAsync("admin", gone);
        await storage.Sessions.RemoveDataAsync(gone);

        Assert.Null(foundAfterRemove);
        Assert.Empty(await storage.Sessions.ListMessagesAsync(gone));
        Assert.Empty(await storage.Events.ReadAfterAsync(gone, 0, 10));
        Assert.DoesNotContain(await storage.Runs.ListOpenRunsAsync(), r => r.SessionId == gone);
        Assert.NotNull(await storage.Sessions.FindAsync("admin", kept));
        Assert.Equal(["hello"], (await storage.Sessions.ListMessagesAsync(kept)).Select(m => m.Content));
        Assert.Single(await storage.Events.ReadAfterAsync(kept, 0, 10));
        Assert.NotNull(Assert.Single(await storage.Runs.ListOpenRunsAsync(), r => r.SessionId == kept).Wait);
    }
}
