using System.Text;
using Conclave.Agents.Events;

namespace Conclave.Server.Tests.Infrastructure;

internal static class StoredEventsAssert
{
    /// <summary>The events read back are the events stored, field for field and byte for byte, in order.</summary>
    public static void Same(IReadOnlyList<SessionEvent> expected, IReadOnlyList<SessionEvent> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.Equal(expected[i].SessionId, actual[i].SessionId);
            Assert.Equal(expected[i].EventId, actual[i].EventId);
            Assert.Equal(expected[i].RunId, actual[i].RunId);
            Assert.Equal(expected[i].Type, actual[i].Type);
            Assert.Equal(Encoding.UTF8.GetString(expected[i].Utf8Json.Span), Encoding.UTF8.GetString(actual[i].Utf8Json.Span));
        }
    }
}
