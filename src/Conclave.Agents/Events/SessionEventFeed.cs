using System.Runtime.CompilerServices;

namespace Conclave.Agents.Events;

/// <summary>
/// One runtime operation for every reader of a session's events: "the events after N, then the live ones", with no
/// gap and no duplicate. A reader opens the feed (which subscribes it to the live events first), then reads what it
/// missed; live events with an id it has already read are to be dropped.
/// </summary>
public sealed class SessionEventFeed(IEventStore store, EventWriter writer, ISessionEventHub hub)
{
    private const int PageSize = 1_000;

    /// <summary>
    /// Subscribes <paramref name="live"/> to the session's events and finds where the reader stands. Dispose the result
    /// to unsubscribe.
    /// </summary>
    /// <param name="sessionId">The session.</param>
    /// <param name="afterEventId">The newest id the reader has, or null to read only what comes after the newest stored event.</param>
    /// <param name="live">Where live events go from now on.</param>
    /// <param name="cancellationToken">Stops the reads.</param>
    public async Task<Opening> OpenAsync(string sessionId, long? afterEventId, ISessionEventSubscriber live, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(live);
        var subscription = hub.Subscribe(sessionId, live);
        try
        {
            // Subscribed before this: an event is either in the live queue, or was published before, and is then in the
            // unstored tail taken here or already in the store read after it (it leaves the tail only once stored).
            var unstored = writer.Unstored(sessionId, 0);
            var newestStored = await store.GetLastEventIdAsync(sessionId, cancellationToken);

            // Events go out before they are stored, so a reader may hold ids beyond the newest stored one: those in the
            // unstored tail. Only an id beyond every published one names nothing it can have seen.
            var newestPublished = unstored.Count > 0 ? Math.Max(newestStored, unstored[^1].EventId) : newestStored;
            var startAfter = afterEventId is { } after ? Math.Min(after, newestPublished) : newestStored;
            return new Opening(this, sessionId, subscription, newestStored, startAfter, afterEventId is not null, unstored);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private IAsyncEnumerable<SessionEvent> MissedAsync(Opening opening, CancellationToken cancellationToken) =>
        RangeAsync(opening.SessionId, opening.StartAfter, long.MaxValue, opening.Replays, opening.Unstored, cancellationToken);

    private IAsyncEnumerable<SessionEvent> GapAsync(string sessionId, long afterEventId, long beforeEventId, CancellationToken cancellationToken) =>
        RangeAsync(sessionId, afterEventId, beforeEventId, readStore: true, writer.Unstored(sessionId, afterEventId), cancellationToken);

    /// <summary>
    /// The session's events with an id above <paramref name="afterEventId"/> and below <paramref name="beforeEventId"/>,
    /// in order: the stored ones (when <paramref name="readStore"/>), then those of <paramref name="unstored"/> (taken
    /// before the store is read: an event leaves the unstored tail only once it is stored) beyond them.
    /// </summary>
    private async IAsyncEnumerable<SessionEvent> RangeAsync(
        string sessionId,
        long afterEventId,
        long beforeEventId,
        bool readStore,
        IReadOnlyList<SessionEvent> unstored,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var last = afterEventId;
        while (readStore && last < beforeEventId - 1)
        {
            var wanted = (int)Math.Min(PageSize, beforeEventId - 1 - last);
            var page = await store.ReadAfterAsync(sessionId, last, wanted, cancellationToken);
            foreach (var stored in page)
            {
                if (stored.EventId >= beforeEventId)
                {
                    yield break;
                }

                last = stored.EventId;
                yield return stored;
            }

            if (page.Count < wanted)
            {
                break;
            }
        }

        foreach (var published in unstored)
        {
            if (published.EventId > last && published.EventId < beforeEventId)
            {
                last = published.EventId;
                yield return published;
            }
        }
    }

    /// <summary>A reader's place in the session's events, and its live subscription.</summary>
    public sealed class Opening : IDisposable
    {
        private readonly SessionEventFeed _feed;
        private readonly IDisposable _subscription;

        internal Opening(
            SessionEventFeed feed, string sessionId, IDisposable subscription, long newestStored, long startAfter, bool replays, IReadOnlyList<SessionEvent> unstored)
        {
            _feed = feed;
            _subscription = subscription;
            SessionId = sessionId;
            NewestStored = newestStored;
            StartAfter = startAfter;
            Replays = replays;
            Unstored = unstored;
        }

        /// <summary>The session.</summary>
        public string SessionId { get; }

        /// <summary>The newest stored event id when the feed opened (what <c>connected.last_event_id</c> says).</summary>
        public long NewestStored { get; }

        /// <summary>The id the missed events start after.</summary>
        public long StartAfter { get; }

        internal bool Replays { get; }

        internal IReadOnlyList<SessionEvent> Unstored { get; }

        /// <summary>
        /// The events the reader missed, in order: stored ones after <see cref="StartAfter"/> when it resumes, then those
        /// published before it subscribed and not yet stored.
        /// </summary>
        public IAsyncEnumerable<SessionEvent> ReadMissedAsync(CancellationToken cancellationToken = default) =>
            _feed.MissedAsync(this, cancellationToken);

        /// <summary>
        /// The events between two ids, for a reader whose live events skipped some: another instance's events reach it
        /// through a bus that can lose a few (its connection failed, or the sending instance died between storing and
        /// sending them). What is stored comes from the store.
        /// </summary>
        public IAsyncEnumerable<SessionEvent> ReadGapAsync(long afterEventId, long beforeEventId, CancellationToken cancellationToken = default) =>
            _feed.GapAsync(SessionId, afterEventId, beforeEventId, cancellationToken);

        /// <summary>Ends the live subscription.</summary>
        public void Dispose() => _subscription.Dispose();
    }
}
