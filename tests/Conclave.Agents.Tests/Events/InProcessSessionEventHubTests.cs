using Conclave.Agents.Events;

namespace Conclave.Agents.Tests.Events;

public sealed class InProcessSessionEventHubTests
{
    [Fact]
    public void SubscribersReceiveTheirSessionsEventsInOrder()
    {
        var hub = new InProcessSessionEventHub();
        var first = new RecordingSubscriber();
        var second = new RecordingSubscriber();
        using var a = hub.Subscribe("s1", first);
        using var b = hub.Subscribe("s1", second);

        for (var id = 1; id <= 50; id++)
        {
            hub.Publish(Event("s1", id));
        }

        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), first.Received.Select(e => e.EventId));
        Assert.Equal(Enumerable.Range(1, 50).Select(i => (long)i), second.Received.Select(e => e.EventId));
    }

    [Fact]
    public void SubscribersDoNotReceiveOtherSessionsEvents()
    {
        var hub = new InProcessSessionEventHub();
        var one = new RecordingSubscriber();
        var two = new RecordingSubscriber();
        using var a = hub.Subscribe("s1", one);
        using var b = hub.Subscribe("s2", two);

        hub.Publish(Event("s1", 1));
        hub.Publish(Event("s2", 1));
        hub.Publish(Event("s1", 2));
        hub.Publish(Event("s3", 1));

        Assert.Equal([("s1", 1L), ("s1", 2L)], one.Received.Select(e => (e.SessionId, e.EventId)));
        Assert.Equal([("s2", 1L)], two.Received.Select(e => (e.SessionId, e.EventId)));
    }

    [Fact]
    public void SessionIdsAreCaseSensitive()
    {
        var hub = new InProcessSessionEventHub();
        var subscriber = new RecordingSubscriber();
        using var subscription = hub.Subscribe("sess_A", subscriber);

        hub.Publish(Event("sess_a", 1));

        Assert.Empty(subscriber.Received);
    }

    [Fact]
    public void NothingArrivesAfterDispose()
    {
        var hub = new InProcessSessionEventHub();
        var leaving = new RecordingSubscriber();
        var staying = new RecordingSubscriber();
        var subscription = hub.Subscribe("s1", leaving);
        using var other = hub.Subscribe("s1", staying);
        hub.Publish(Event("s1", 1));

        subscription.Dispose();
        subscription.Dispose();
        hub.Publish(Event("s1", 2));

        Assert.Equal([1L], leaving.Received.Select(e => e.EventId));
        Assert.Equal([1L, 2L], staying.Received.Select(e => e.EventId));
    }

    [Fact]
    public void SubscribingAgainAfterEveryoneLeftReceivesEvents()
    {
        var hub = new InProcessSessionEventHub();
        hub.Subscribe("s1", new RecordingSubscriber()).Dispose();
        var subscriber = new RecordingSubscriber();

        using var subscription = hub.Subscribe("s1", subscriber);
        hub.Publish(Event("s1", 1));

        Assert.Single(subscriber.Received);
    }

    [Fact]
    public void ASubscriberThatCannotKeepUpDoesNotStopDeliveryToOthers()
    {
        var hub = new InProcessSessionEventHub();
        var slow = new RecordingSubscriber(accepts: false);
        var fast = new RecordingSubscriber();
        using var a = hub.Subscribe("s1", slow);
        using var b = hub.Subscribe("s1", fast);

        hub.Publish(Event("s1", 1));
        hub.Publish(Event("s1", 2));

        Assert.Equal([1L, 2L], fast.Received.Select(e => e.EventId));
    }

    [Fact]
    public void PublishingToASessionWithoutSubscribersDoesNothing() =>
        new InProcessSessionEventHub().Publish(Event("nobody", 1));

    [Fact]
    public async Task SubscribingAndLeavingWhilePublishingNeverLosesAStayingSubscribersEvents()
    {
        var hub = new InProcessSessionEventHub();
        var staying = new RecordingSubscriber();
        using var subscription = hub.Subscribe("s1", staying);

        var churn = Task.Run(() =>
        {
            for (var i = 0; i < 2_000; i++)
            {
                hub.Subscribe("s1", new RecordingSubscriber()).Dispose();
            }
        });
        for (var id = 1; id <= 2_000; id++)
        {
            hub.Publish(Event("s1", id));
        }

        await churn.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(Enumerable.Range(1, 2_000).Select(i => (long)i), staying.Received.Select(e => e.EventId));
    }

    private static SessionEvent Event(string sessionId, long eventId) =>
        new(sessionId, eventId, "run_1", "token", "{}"u8.ToArray());
}
