using System.Text;
using Conclave.Agents.Events;
using Conclave.Cluster.Redis;
using StackExchange.Redis;

namespace Conclave.Server.Tests.Cluster;

public sealed class EventCodecTests
{
    private static readonly Guid Sender = Guid.NewGuid();

    [Fact]
    public void ABatchOfSeveralSessionsComesBackWholeAndInOrder()
    {
        SessionEvent[] sent =
        [
            Event("s1", 7, "run_a", "token", """{"type":"token","content":"héllo"}"""),
            Event("s2", 1, null, "connected", """{"type":"connected"}"""),
            Event("s1", 8, "run_a", "final_answer", """{"type":"final_answer","content":"✓"}"""),
        ];

        var received = EventCodec.Decode(EventCodec.Encode(sent, Sender), self: Guid.NewGuid());

        Assert.Equal(sent.Select(Describe), received.Select(Describe));
    }

    [Fact]
    public void AnInstanceIgnoresItsOwnMessages()
    {
        var message = EventCodec.Encode([Event("s1", 1, null, "token", "{}")], Sender);

        Assert.Empty(EventCodec.Decode(message, self: Sender));
    }

    [Fact]
    public void AMessageCutShortOrNotOfThisCodecGivesNoEvents()
    {
        byte[] whole = EventCodec.Encode([Event("s1", 1, "run_a", "token", """{"type":"token"}""")], Sender)!;

        Assert.Empty(EventCodec.Decode(whole[..^5], Guid.NewGuid()));
        Assert.Empty(EventCodec.Decode(Encoding.UTF8.GetBytes("hello"), Guid.NewGuid()));
        Assert.Empty(EventCodec.Decode(RedisValue.Null, Guid.NewGuid()));
    }

    private static SessionEvent Event(string session, long id, string? run, string type, string json) =>
        new(session, id, run, type, Encoding.UTF8.GetBytes(json));

    private static string Describe(SessionEvent e) => $"{e.SessionId}/{e.EventId}/{e.RunId}/{e.Type}/{Encoding.UTF8.GetString(e.Utf8Json.Span)}";
}
