using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Events;

/// <summary>How events are journaled and batched into storage (<c>Conclave:Events</c>).</summary>
public sealed class EventWriterOptions
{
    /// <summary>
    /// Events waiting to be journaled, and again events waiting to be stored, before runs are slowed down to the disk's
    /// or the storage's pace.
    /// </summary>
    [Range(16, 10_000_000)]
    public int QueueCapacity { get; set; } = 65_536;

    /// <summary>The most events stored in one write.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 2_048;

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
