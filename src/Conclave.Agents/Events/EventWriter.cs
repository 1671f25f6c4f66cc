using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Events;

/// <summary>
/// The one writer of the event log. An event is written to the <see cref="EventJournal"/> as it is appended, then
/// published, so no client sees an event that would not outlive the process; the event store takes the journaled events
/// in batches behind (one write for all that queued up meanwhile), and a run's terminal event is published only once it
/// and everything before it is stored there. Until an event is stored it stays in its session's unstored tail, which
/// readers take before they read the store (subscribe, take the tail, read the store): so they miss nothing.
/// With <see cref="EventWriterOptions.PublishOnceStored"/> (several processes on one database, where no other process
/// could read this one's journal) nothing is journaled: each batch is stored, then its events are published, by a
/// loop of their own, so that a batch is published while the next one is stored.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Channel<QueueItem> _journaled = Channel.CreateUnbounded<QueueItem>(new UnboundedChannelOptions { SingleReader = true });
    // Batch lists the publishing loop is done with, for the storing loop to fill again (a batch can be thousands of
    // events; a new list each would be most of what storing allocates).
    private readonly System.Collections.Concurrent.ConcurrentQueue<List<SessionEvent>> _spareBatches = new();
    // The newest stored id of each session in the batch just stored (see Stored).
    private readonly Dictionary<string, long> _storedUpTo = new(StringComparer.Ordinal);
    private readonly Channel<StoredBatch> _stored = Channel.CreateUnbounded<StoredBatch>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Tail> _unstored = new(StringComparer.Ordinal);
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> _abandoned = new(StringComparer.Ordinal);

    // Whether any run is abandoned: read per event, where the dictionary's own IsEmpty would take all its locks. Set
    // with the dictionary's changes, under one lock.
    private volatile bool _anyAbandoned;
    private readonly Lock _abandonLock = new();
    private readonly EventJournal _journal;
    private readonly IEventStore _store;
    private readonly ISessionEventHub _hub;
    private readonly int _maxBatchSize;

    // What a batch list is made to hold: no more than the queue can (published once stored, far less than a batch may).
    private readonly int _batchCapacity;
    private readonly int _capacity;
    private readonly bool _publishOnceStored;

    // One order for the journal and the store's queue, so that a stored mark covers just what is stored.
    private readonly Lock _journalLock = new();
    private readonly Lock _roomLock = new();
    private readonly ILogger<EventWriter> _logger;

    // Events journaled (or about to be) and not yet stored and published; appends wait while it is over the capacity.
    private long _backlog;
    private TaskCompletionSource? _room;
    private Exception? _failure;

    /// <summary>Creates the writer.</summary>
    public EventWriter(EventJournal journal, IEventStore store, ISessionEventHub hub, IOptions<EventWriterOptions> options, ILogger<EventWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _journal = journal;
        _store = store;
        _hub = hub;
        _logger = logger;
        _maxBatchSize = options.Value.MaxBatchSize;
        _capacity = options.Value.EffectiveQueueCapacity;
        _batchCapacity = Math.Min(_maxBatchSize, _capacity);
        _publishOnceStored = options.Value.PublishOnceStored;
    }

    /// <summary>
    /// Journals an event, publishes it unless it ends its run, and queues it to be stored; waits only while
    /// <see cref="EventWriterOptions.QueueCapacity"/> events are not stored and published yet, or the journal cannot be written. Callers
    /// append a session's events one at a time, in id order.
    /// </summary>
    public ValueTask EnqueueAsync(SessionEvent sessionEvent)
    {
        ArgumentNullException.ThrowIfNull(sessionEvent);
        if (_anyAbandoned && sessionEvent.RunId is { } runId && _abandoned.ContainsKey(runId))
        {
            return ValueTask.CompletedTask;
        }

        if (!TryTakeRoom())
        {
            return WaitAndJournalAsync(sessionEvent, counted: false);
        }

        if (!TryJournal(sessionEvent))
        {
            return WaitAndJournalAsync(sessionEvent, counted: true);
        }

        PublishJournaled(sessionEvent);
        return ValueTask.CompletedTask;
    }

    /// <summary>
    /// Drops the run's events not stored yet, and those it appends from now on: another instance took the run over
    /// (published once stored, no client saw them, and their ids are that instance's now).
    /// </summary>
    public void AbandonRun(string runId)
    {
        lock (_abandonLock)
        {
            _abandoned[runId] = 0;
            _anyAbandoned = true;
        }
    }

    /// <summary>
    /// Once the run, abandoned and stopped, has nothing left here (what it queued is dropped), takes its events again:
    /// this instance may take the run up once more, as any other.
    /// </summary>
    public async Task ForgetAbandonedAsync(string runId)
    {
        await FlushAsync();
        lock (_abandonLock)
        {
            _abandoned.TryRemove(runId, out _);
            _anyAbandoned = !_abandoned.IsEmpty;
        }
    }

    /// <summary>
    /// The session's published events with an id above <paramref name="afterEventId"/> that are not stored yet,
    /// in order. Take this before reading the store: an event leaves the tail only once it is stored.
    /// </summary>
    public IReadOnlyList<SessionEvent> Unstored(string sessionId, long afterEventId)
    {
        if (!_unstored.TryGetValue(sessionId, out var tail))
        {
            return [];
        }

        lock (tail)
        {
            return tail.Events.Where(e => e.EventId > afterEventId && !e.IsTerminal).ToList();
        }
    }

    /// <summary>Completes when every event queued before this call is stored and published.</summary>
    public async Task FlushAsync()
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_journalLock)
        {
            if (!_journaled.Writer.TryWrite(new QueueItem(null, done, default)))
            {
                throw new InvalidOperationException("The event writer has stopped.");
            }
        }

        await done.Task;
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Runs have ended by now: store what they appended, then stop.
        lock (_journalLock)
        {
            _journaled.Writer.TryComplete();
        }

        await base.StopAsync(cancellationToken);
    }

    /// <summary>
    /// Stores what was journaled and marks the journal, one batch after another, and publishes what each stored batch
    /// makes due: its terminal events at once; all of it, when published once stored, in a second loop.
    /// </summary>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var publishing = _publishOnceStored ? PublishStoredAsync() : Task.CompletedTask;
        try
        {
            await StoreJournaledAsync(stoppingToken);
        }
        finally
        {
            _stored.Writer.TryComplete();
            await publishing;
        }
    }

    private async Task StoreJournaledAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SessionEvent>(_batchCapacity);
        var flushes = new List<TaskCompletionSource>();
        var reader = _journaled.Reader;
        try
        {
            while (await reader.WaitToReadAsync(CancellationToken.None))
            {
                var journaledUpTo = default(JournalPosition);
                while (batch.Count < _maxBatchSize && reader.TryRead(out var item))
                {
                    if (item.Event is not null)
                    {
                        batch.Add(item.Event);
                        journaledUpTo = item.JournaledUpTo;
                    }

                    if (item.Flushed is not null)
                    {
                        flushes.Add(item.Flushed);
                        break; // publish what came before the flush marker first
                    }
                }

                if (batch.Count > 0)
                {
                    await StoreWithRetryAsync(batch, stoppingToken);
                    Stored(batch);
                    MarkStored(journaledUpTo);
                }

                IReadOnlyList<TaskCompletionSource> told = [];
                if (flushes.Count > 0)
                {
                    told = flushes;
                    flushes = [];
                }

                // Handed over whole (what was dropped gave its room back already); publishing gives the rest's room back.
                // Journaled, only terminal events wait for the store: few enough to publish here, without a hand-over.
                if (_publishOnceStored)
                {
                    _stored.Writer.TryWrite(new StoredBatch(batch, told));
                    batch = _spareBatches.TryDequeue(out var spare) ? spare : new List<SessionEvent>(_batchCapacity);
                }
                else
                {
                    Publish(new StoredBatch(batch, told));
                }
            }
        }
        catch (Exception ex)
        {
            // The store gave up as the server stops: whoever waits for a flush or for room is told, not left waiting.
            Volatile.Write(ref _failure, ex);
            foreach (var flushed in flushes)
            {
                flushed.TrySetException(ex);
            }

            lock (_journalLock)
            {
                _journaled.Writer.TryComplete();
            }

            while (reader.TryRead(out var item))
            {
                item.Flushed?.TrySetException(ex);
            }

            lock (_roomLock)
            {
                _room?.TrySetException(ex);
                _room = null;
            }

            throw;
        }
    }

    /// <summary>Publishes stored batches in the order stored (published once stored, while the next is stored).</summary>
    private async Task PublishStoredAsync()
    {
        await foreach (var stored in _stored.Reader.ReadAllAsync(CancellationToken.None))
        {
            Publish(stored);
            _spareBatches.Enqueue(stored.Events);
        }
    }

    /// <summary>
    /// Publishes what a stored batch makes due (all of it when published once stored, else its terminal events), gives
    /// its room back, tells the flushes that came after it, and empties it.
    /// </summary>
    private void Publish(StoredBatch stored)
    {
        if (_publishOnceStored)
        {
            _hub.Publish(stored.Events);
        }
        else
        {
            foreach (var sessionEvent in stored.Events)
            {
                if (sessionEvent.IsTerminal)
                {
                    _hub.Publish(sessionEvent);
                }
            }
        }

        MakeRoom(stored.Events.Count);
        foreach (var flushed in stored.Flushes)
        {
            flushed.TrySetResult();
        }

        stored.Events.Clear();
    }

    /// <summary>
    /// Writes the event to the journal, then to its session's unstored tail and the store's queue, in one order for all
    /// sessions; false when the journal could not be written (nothing of it was kept). Published once stored, an event
    /// goes only to the store's queue.
    /// </summary>
    private bool TryJournal(SessionEvent sessionEvent)
    {
        lock (_journalLock)
        {
            var position = default(JournalPosition);
            if (!_publishOnceStored)
            {
                try
                {
                    position = _journal.Append(sessionEvent);
                }
                catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
                {
                    LogJournalFailed(ex, sessionEvent.SessionId, sessionEvent.EventId);
                    return false;
                }

                AddToTail(sessionEvent);
            }

            if (!_journaled.Writer.TryWrite(new QueueItem(sessionEvent, null, position)))
            {
                throw new InvalidOperationException("The event writer has stopped.");
            }

            return true;
        }
    }

    /// <summary>
    /// The slow way in: waits until the store has caught up to within the capacity (unless the event is
    /// <paramref name="counted"/> in the backlog already), and retries the journal until the disk takes the write.
    /// Nothing is published unjournaled.
    /// </summary>
    private async ValueTask WaitAndJournalAsync(SessionEvent sessionEvent, bool counted)
    {
        while (!counted)
        {
            await WaitForRoomAsync();
            counted = TryTakeRoom();
        }

        var delay = FirstRetryDelay;
        while (!TryJournal(sessionEvent))
        {
            await Task.Delay(delay, CancellationToken.None);
            delay = NextRetryDelay(delay);
        }

        PublishJournaled(sessionEvent);
    }

    /// <summary>Hands a journaled event to its subscribers; a terminal event (and any, when published once stored) waits until it is stored.</summary>
    private void PublishJournaled(SessionEvent sessionEvent)
    {
        if (!_publishOnceStored && !sessionEvent.IsTerminal)
        {
            _hub.Publish(sessionEvent);
        }
    }

    /// <summary>Doubles a retry's delay, up to <see cref="MaxRetryDelay"/>.</summary>
    private static TimeSpan NextRetryDelay(TimeSpan delay) => TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));

    /// <summary>Counts one more event in the backlog if it has room; a waiter that finds none counts for nothing.</summary>
    private bool TryTakeRoom()
    {
        if (Interlocked.Increment(ref _backlog) <= _capacity)
        {
            return true;
        }

        // Given back, and told to the waiters: one of them may have seen the backlog full by this count alone.
        MakeRoom(1);
        return false;
    }

    private async Task WaitForRoomAsync()
    {
        while (true)
        {
            Task room;
            lock (_roomLock)
            {
                if (Volatile.Read(ref _failure) is { } failure)
                {
                    throw new InvalidOperationException("The event store failed; the event writer has stopped.", failure);
                }

                if (Volatile.Read(ref _backlog) < _capacity)
                {
                    return;
                }

                room = (_room ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
            }

            await room;
        }
    }

    private void MakeRoom(int freed)
    {
        // Under the lock, as the waiters check: one that saw no room before this has its signal to wait on by now.
        lock (_roomLock)
        {
            Interlocked.Add(ref _backlog, -freed);
            _room?.TrySetResult();
            _room = null;
        }
    }

    private void MarkStored(JournalPosition position)
    {
        if (_publishOnceStored)
        {
            return;
        }

        try
        {
            lock (_journalLock)
            {
                _journal.MarkStored(position);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without the mark the next start checks more of the journal against the store, and old segments wait for the next one.
            LogMarkFailed(ex);
        }
    }

    private void AddToTail(SessionEvent sessionEvent)
    {
        while (true)
        {
            var tail = _unstored.GetOrAdd(sessionEvent.SessionId, static _ => new Tail());
            lock (tail)
            {
                if (!tail.Removed)
                {
                    tail.Events.Enqueue(sessionEvent);
                    return;
                }
            }
        }
    }

    private async Task StoreWithRetryAsync(List<SessionEvent> batch, CancellationToken stoppingToken)
    {
        var delay = FirstRetryDelay;
        for (var attempt = 1; ; attempt++)
        {
            if (_anyAbandoned)
            {
                var dropped = batch.RemoveAll(e => e.RunId is { } runId && _abandoned.ContainsKey(runId));
                MakeRoom(dropped);
            }

            if (batch.Count == 0)
            {
                return;
            }

            try
            {
                await _store.AppendAsync(batch, CancellationToken.None);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested || attempt < 5)
            {
                // Events are never dropped: runs wait on the full queue until storage answers again.
                LogStoreFailed(ex, batch.Count, attempt);
                await Task.Delay(delay, CancellationToken.None);
                delay = NextRetryDelay(delay);
            }
        }
    }

    /// <summary>Takes a stored batch out of the unstored tails: once per session, under its tail's lock.</summary>
    private void Stored(List<SessionEvent> batch)
    {
        // One batch at a time (the storing loop's), so one dictionary serves them all: with many sessions streaming it
        // holds one per session, and a new one would grow to that again for every batch.
        var newest = _storedUpTo;
        foreach (var sessionEvent in batch)
        {
            newest[sessionEvent.SessionId] = sessionEvent.EventId;
        }

        foreach (var (sessionId, storedUpTo) in newest)
        {
            if (!_unstored.TryGetValue(sessionId, out var tail))
            {
                continue;
            }

            lock (tail)
            {
                // Stored in order, so the stored events are the first of their session's tail.
                while (tail.Events.TryPeek(out var first) && first.EventId <= storedUpTo)
                {
                    tail.Events.Dequeue();
                }

                if (tail.Events.Count == 0)
                {
                    // Marked under its lock, so an append that raced with this goes to a new tail instead.
                    tail.Removed = true;
                    _unstored.TryRemove(new KeyValuePair<string, Tail>(sessionId, tail));
                }
            }
        }

        newest.Clear();
    }

    private sealed class Tail
    {
        public Queue<SessionEvent> Events { get; } = new();

        public bool Removed { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing event {EventId} of session {SessionId} to the journal failed; its run waits and retries")]
    private partial void LogJournalFailed(Exception exception, string sessionId, long eventId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Marking stored events in the journal failed")]
    private partial void LogMarkFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} events failed (attempt {Attempt}); retrying")]
    private partial void LogStoreFailed(Exception exception, int count, int attempt);

    // A stored batch on its way to be published (without what was dropped), and the flushes queued after it.
    private readonly record struct StoredBatch(List<SessionEvent> Events, IReadOnlyList<TaskCompletionSource> Flushes);

    private readonly record struct QueueItem(SessionEvent? Event, TaskCompletionSource? Flushed, JournalPosition JournaledUpTo);
}
