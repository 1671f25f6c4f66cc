using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Events;

/// <summary>How events are batched into storage (<c>Conclave:Events</c>).</summary>
public sealed class EventWriterOptions
{
    /// <summary>Events waiting to be stored before runs are slowed down to the storage's pace.</summary>
    [Range(16, 10_000_000)]
    public int QueueCapacity { get; set; } = 65_536;

    /// <summary>The most events stored in one write.</summary>
    [Range(1, 100_000)]
    public int MaxBatchSize { get; set; } = 2_048;
}
