using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Events;

/// <summary>How events are journaled and batched into storage (<c>Conclave:Events</c>).</summary>
public sealed class EventWriterOptions
{
    /// <summary>The default <see cref="QueueCapacity"/> of one process, whose clients see events as they are journaled.</summary>
    public const int JournaledQueueCapacity = 65_536;

    /// <summary>
    /// The default <see cref="QueueCapacity"/> when published once stored: every queued event is one no client has
    /// seen yet, so the queue's length is how far behind the clients are (its length over the store's pace).
    /// </summary>
    public const int PublishOnceStoredQueueCapacity = 4_096;

    /// <summary>
    /// Events waiting to be journaled, and again events not yet stored and published, before runs are slowed down to
    /// the disk's or the storage's pace; null for the default of the mode (<see cref="JournaledQueueCapacity"/>, or
    /// <see cref="PublishOnceStoredQueueCapacity"/>).
    /// </summary>
    [Range(16, 10_000_000)]
    public int? QueueCapacity { get; set; }

    /// <summary>The <see cref="QueueCapacity"/> in effect.</summary>
    public int EffectiveQueueCapacity => QueueCapacity ?? (PublishOnceStored ? PublishOnceStoredQueueCapacity : JournaledQueueCapacity);

    /// <summary>
    /// The most events stored in one write. A batch is what queued up while the last one was stored: when many sessions
    /// stream at once, a larger batch holds more events of each session, so each of its rows (and the index pages a
    /// row touches) carries more events.
    /// </summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 65_536;

    /// <summary>
    /// Publish each event only once it is stored, and journal nothing: for several processes on one database, where
    /// a client's event must outlive the process that made it without that process's disk. The host sets it (the
    /// server: when it runs as one of several instances).
    /// </summary>
    public bool PublishOnceStored { get; set; }

    /// <summary>The folder of the <see cref="EventJournal"/>; the host sets it (the server: <c>journal</c> in its data folder).</summary>
    [Required]
    public string JournalPath { get; set; } = "";
}
