using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Events;

/// <summary>
/// The one writer of the event log, in two stages. The first writes what was appended to the <see cref="EventJournal"/>
/// (one write for all that queued up meanwhile) and only then publishes it, so no client sees an event that would not
/// outlive the process. The second stores the journaled events in the event store in batches, behind; a run's terminal
/// event is published only once it and everything before it is stored there. Until an event is stored it stays in its
/// session's unstored tail, which readers take before they read the store (subscribe, take the tail, read the store): so
/// they miss nothing.
/// </summary>
public sealed partial class EventWriter : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(5);

    private readonly Channel<QueueItem> _appended;
    private readonly Channel<QueueItem> _journaled;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Tail> _unstored = new(StringComparer.Ordinal);
    private readonly EventJournal _journal;
    private readonly IEventStore _store;
    private readonly ISessionEventHub _hub;
    private readonly int _maxBatchSize;
    private readonly ILogger<EventWriter> _logger;

    /// <summary>Creates the writer.</summary>
    public EventWriter(EventJournal journal, IEventStore store, ISessionEventHub hub, IOptions<EventWriterOptions> options, ILogger<EventWriter> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        _journal = journal;
        _store = store;
        _hub = hub;
        _logger = logger;
        _maxBatchSize = options.Value.MaxBatchSize;
        var queue = new BoundedChannelOptions(options.Value.QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait };
        _appended = Channel.CreateBounded<QueueItem>(queue);
        _journaled = Channel.CreateBounded<QueueItem>(queue);
    }

    /// <summary>
    /// Queues an event to be journaled, published (unless it ends its run) and stored; waits only when the queue is
    /// full. Callers append a session's events one at a time, in id order.
    /// </summary>
    public ValueTask EnqueueAsync(SessionEvent sessionEvent)
    {
        ArgumentNullException.ThrowIfNull(sessionEvent);
        return _appended.Writer.WriteAsync(new QueueItem(sessionEvent, null, default));
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
        await _appended.Writer.WriteAsync(new QueueItem(null, done, default));
        await done.Task;
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Runs have ended by now: drain what they queued, then stop.
        _appended.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    /// <inheritdoc />
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(JournalLoopAsync(stoppingToken), StoreLoopAsync(stoppingToken));

    /// <summary>Journals, then publishes, what was appended, and hands it on to be stored.</summary>
    private async Task JournalLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SessionEvent>(_maxBatchSize);
        var reader = _appended.Reader;
        var journaled = _journaled.Writer;
        while (await reader.WaitToReadAsync(CancellationToken.None))
        {
            TaskCompletionSource? flushed = null;
            while (batch.Count < _maxBatchSize && reader.TryRead(out var item))
            {
                if (item.Event is not null)
                {
                    batch.Add(item.Event);
                }

                if (item.Flushed is not null)
                {
                    flushed = item.Flushed;
                    break; // publish what came before the flush marker first
                }
            }

            if (batch.Count > 0)
            {
                var position = await JournalWithRetryAsync(batch, stoppingToken);
                foreach (var sessionEvent in batch)
                {
                    AddToTail(sessionEvent);
                    if (!sessionEvent.IsTerminal)
                    {
                        _hub.Publish(sessionEvent);
                    }
                }

                foreach (var sessionEvent in batch)
                {
                    await journaled.WriteAsync(new QueueItem(sessionEvent, null, position), CancellationToken.None);
                }

                batch.Clear();
            }

            if (flushed is not null)
            {
                await journaled.WriteAsync(new QueueItem(null, flushed, default), CancellationToken.None);
            }
        }

        journaled.TryComplete();
    }

    /// <summary>Stores what was journaled, publishes terminal events once stored, and marks the journal.</summary>
    private async Task StoreLoopAsync(CancellationToken stoppingToken)
    {
        var batch = new List<SessionEvent>(_maxBatchSize);
        var flushes = new List<TaskCompletionSource>();
        var reader = _journaled.Reader;
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
                foreach (var sessionEvent in batch)
                {
                    if (sessionEvent.IsTerminal)
                    {
                        _hub.Publish(sessionEvent);
                    }
                }

                batch.Clear();
            }

            foreach (var flushed in flushes)
            {
                flushed.TrySetResult();
            }

            flushes.Clear();
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

    private async Task<JournalPosition> JournalWithRetryAsync(List<SessionEvent> batch, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return _journal.Append(batch);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException && (!stoppingToken.IsCancellationRequested || attempt < 5))
            {
                // Nothing is published unjournaled: runs wait on the full queue until the disk takes writes again.
                LogJournalFailed(ex, batch.Count, attempt);
                await Task.Delay(delay, CancellationToken.None);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    private void MarkStored(JournalPosition position)
    {
        try
        {
            _journal.MarkStored(position);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Without the mark the next start checks more of the journal against the store, and old segments wait for the next one.
            LogMarkFailed(ex);
        }
    }

    private async Task StoreWithRetryAsync(List<SessionEvent> batch, CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(50);
        for (var attempt = 1; ; attempt++)
        {
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
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxRetryDelay.Ticks));
            }
        }
    }

    /// <summary>Takes a stored batch out of the unstored tails: once per session, under its tail's lock.</summary>
    private void Stored(List<SessionEvent> batch)
    {
        // Most batches are of one session (a run streaming); others hold a few.
        var newest = new Dictionary<string, long>(1, StringComparer.Ordinal);
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
    }

    private sealed class Tail
    {
        public Queue<SessionEvent> Events { get; } = new();

        public bool Removed { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Journaling {Count} events failed (attempt {Attempt}); retrying")]
    private partial void LogJournalFailed(Exception exception, int count, int attempt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Marking stored events in the journal failed")]
    private partial void LogMarkFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Storing {Count} events failed (attempt {Attempt}); retrying")]
    private partial void LogStoreFailed(Exception exception, int count, int attempt);

    private readonly record struct QueueItem(SessionEvent? Event, TaskCompletionSource? Flushed, JournalPosition JournaledUpTo);
}
