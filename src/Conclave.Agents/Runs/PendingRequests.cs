using System.Collections.Concurrent;
using Conclave.Agents.Events;

namespace Conclave.Agents.Runs;

/// <summary>What kind of answer a pending request waits for.</summary>
public enum RequestKind
{
    /// <summary>A <c>confirmation_reply</c>.</summary>
    Confirmation,

    /// <summary>A <c>reply</c> to an <c>ask_human</c>.</summary>
    Question,
}

/// <summary>A person's answer to a pending request.</summary>
/// <param name="Approved">For a confirmation: whether the tool may run.</param>
/// <param name="Content">For a question: the reply; for a confirmation: the reason given, if any.</param>
public sealed record HumanAnswer(bool Approved, string? Content);

/// <summary>The requests of a run that wait for a person, each answered at most once, from any socket.</summary>
public sealed class PendingRequests
{
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Opens a request; its answer completes the returned task.</summary>
    public (string RequestId, Task<HumanAnswer> Answer) Open(RequestKind kind)
    {
        var id = $"req_{Guid.NewGuid():N}";
        var entry = new Entry(kind);
        _entries[id] = entry;
        return (id, entry.Answer.Task);
    }

    /// <summary>Opens again, under its own id, a request a previous process announced; its answer completes the returned task.</summary>
    public Task<HumanAnswer> Restore(string requestId, RequestKind kind, SessionEvent announcement)
    {
        var entry = new Entry(kind) { Announcement = announcement };
        _entries[requestId] = entry;
        return entry.Answer.Task;
    }

    /// <summary>Records the event that announced the request, for clients that connect later.</summary>
    public void Announce(string requestId, SessionEvent announcement)
    {
        if (_entries.TryGetValue(requestId, out var entry))
        {
            entry.Announcement = announcement;
        }
    }

    /// <summary>Answers a request; false when no request of that kind and id is pending.</summary>
    public bool TryAnswer(string requestId, RequestKind kind, HumanAnswer answer) =>
        _entries.TryGetValue(requestId, out var entry) && entry.Kind == kind
        && _entries.TryRemove(new KeyValuePair<string, Entry>(requestId, entry))
        && entry.Answer.TrySetResult(answer);

    /// <summary>Closes a request that expired or was abandoned; false when it was answered (or closed) first.</summary>
    public bool TryClose(string requestId) => _entries.TryRemove(requestId, out _);

    /// <summary>How many requests are open.</summary>
    public int Count => _entries.Count;

    /// <summary>The announcements of the requests still open, in event order.</summary>
    public IReadOnlyList<SessionEvent> Snapshot() =>
        _entries.Values.Select(e => e.Announcement).OfType<SessionEvent>().OrderBy(e => e.EventId).ToList();

    private sealed class Entry(RequestKind kind)
    {
        public RequestKind Kind { get; } = kind;

        public TaskCompletionSource<HumanAnswer> Answer { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public SessionEvent? Announcement { get; set; }
    }
}
