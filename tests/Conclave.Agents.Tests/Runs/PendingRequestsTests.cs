using Conclave.Agents.Events;
using Conclave.Agents.Runs;

namespace Conclave.Agents.Tests.Runs;

public sealed class PendingRequestsTests
{
    private static readonly HumanAnswer Yes = new(true, null);

    [Fact]
    public void OpenGivesEveryRequestItsOwnId()
    {
        var pending = new PendingRequests();

        var ids = Enumerable.Range(0, 100).Select(i => pending.Open(i % 2 == 0 ? RequestKind.Question : RequestKind.Confirmation).RequestId).ToList();

        Assert.Equal(100, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public async Task TheRightAnswerCompletesTheRequest()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Question);
        var reply = new HumanAnswer(true, "blue");

        Assert.True(pending.TryAnswer(id, RequestKind.Question, reply));
        Assert.True(answer.IsCompletedSuccessfully);
        Assert.Same(reply, await answer);
    }

    [Fact]
    public async Task AnAnswerOfTheWrongKindIsRefusedAndLeavesTheRequestOpen()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Confirmation);

        Assert.False(pending.TryAnswer(id, RequestKind.Question, new HumanAnswer(true, "text")));
        Assert.False(answer.IsCompleted);

        Assert.True(pending.TryAnswer(id, RequestKind.Confirmation, Yes));
        Assert.Same(Yes, await answer);
    }

    [Fact]
    public void AnAnswerToAnUnknownIdIsRefusedAndLeavesOtherRequestsOpen()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Question);

        Assert.False(pending.TryAnswer("req_unknown", RequestKind.Question, Yes));
        Assert.False(answer.IsCompleted);
        Assert.True(pending.TryAnswer(id, RequestKind.Question, Yes));
    }

    [Fact]
    public async Task ASecondAnswerIsRefusedAndTheFirstStands()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Confirmation);
        var first = new HumanAnswer(false, "no");

        Assert.True(pending.TryAnswer(id, RequestKind.Confirmation, first));
        Assert.False(pending.TryAnswer(id, RequestKind.Confirmation, Yes));
        Assert.Same(first, await answer);
    }

    [Fact]
    public async Task AnswersRacingFromManySocketsCompleteTheRequestOnce()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Question);
        var accepted = new bool[64];

        Parallel.For(0, accepted.Length, i => accepted[i] = pending.TryAnswer(id, RequestKind.Question, new HumanAnswer(true, $"reply {i}")));

        var winner = Assert.Single(Enumerable.Range(0, accepted.Length), i => accepted[i]);
        Assert.Equal($"reply {winner}", (await answer).Content);
    }

    [Fact]
    public void AClosedRequestCannotBeAnswered()
    {
        var pending = new PendingRequests();
        var (id, answer) = pending.Open(RequestKind.Confirmation);

        Assert.True(pending.TryClose(id));

        Assert.False(pending.TryAnswer(id, RequestKind.Confirmation, Yes));
        Assert.False(pending.TryClose(id));
        Assert.False(answer.IsCompleted);
    }

    [Fact]
    public void SnapshotReturnsAnnouncedRequestsInEventOrderAndDropsClosedOnes()
    {
        var pending = new PendingRequests();
        var (first, _) = pending.Open(RequestKind.Question);
        var (second, _) = pending.Open(RequestKind.Confirmation);
        var (third, _) = pending.Open(RequestKind.Question);
        var (fourth, _) = pending.Open(RequestKind.Confirmation);
        pending.Open(RequestKind.Question);
        pending.Announce(first, Announcement(7));
        pending.Announce(second, Announcement(3));
        pending.Announce(third, Announcement(5));
        pending.Announce(fourth, Announcement(9));

        Assert.Equal([3L, 5, 7, 9], pending.Snapshot().Select(e => e.EventId));

        pending.TryAnswer(third, RequestKind.Question, Yes);
        pending.TryClose(fourth);

        Assert.Equal([3L, 7], pending.Snapshot().Select(e => e.EventId));
    }

    [Fact]
    public void AnnouncingARequestThatIsNoLongerOpenAddsNothing()
    {
        var pending = new PendingRequests();
        var (id, _) = pending.Open(RequestKind.Question);
        pending.TryAnswer(id, RequestKind.Question, Yes);

        pending.Announce(id, Announcement(4));

        Assert.Empty(pending.Snapshot());
    }

    private static SessionEvent Announcement(long eventId) =>
        new("sess_1", eventId, "run_1", "ask_human", "{}"u8.ToArray());
}
