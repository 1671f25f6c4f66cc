using Conclave.Agents.Events;
using Conclave.Agents.Tools;

namespace Conclave.Agents.Runs;

/// <summary>
/// One run of a session: its id, its event log, the requests waiting for a person, and the means to stop it.
/// </summary>
public sealed class Run
{
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _usageLock = new();
    private Usage _usage = Usage.None;
    private readonly TimeProvider _time;
    private SessionEventLog? _log;
    private int _stopReason = -1;
    private volatile bool _terminalSent;
    private readonly Lock _stopLock = new();
    private bool _finishing;
    private bool _hasDurableWait;

    internal Run(RunRequest request, WaitTimeouts timeouts, TimeProvider time)
        : this(SortableIds.New("run_"), request, time.GetUtcNow().UtcDateTime, Usage.None, timeouts, time)
    {
    }

    private Run(string id, RunRequest request, DateTime startedAt, Usage usage, WaitTimeouts timeouts, TimeProvider time)
    {
        Id = id;
        Request = request;
        StartedAt = startedAt;
        _usage = usage;
        Timeouts = timeouts;
        _time = time;
    }

    /// <summary>A run a previous process left waiting on a person, taken up again under its own id.</summary>
    internal static Run Restore(OpenRun open, WaitTimeouts timeouts, TimeProvider time) =>
        new(open.RunId, new RunRequest(open.TenantId, open.SessionId, string.Empty), open.StartedAt, open.Usage, timeouts, time);

    /// <summary>How long the run's new requests wait: the server's settings, or the matched skill's where it sets them.</summary>
    internal WaitTimeouts Timeouts { get; set; }

    // What to call once a request of an agent of the run is announced, by the agent (see OnWaiting).
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Func<OpenedWait, Task>> _onWaiting = new(StringComparer.Ordinal);

    /// <summary>
    /// Sets (or, with null, clears) what is called once a request of the agent in <paramref name="scope"/> (the run's own
    /// when null, else an expert's) is announced, before anyone can see it: the agent loop stores its wait there, so that
    /// it outlives the process.
    /// </summary>
    internal void OnWaiting(TeamScope? scope, Func<OpenedWait, Task>? handler)
    {
        if (handler is null)
        {
            _onWaiting.TryRemove(WaiterKey(scope), out _);
        }
        else
        {
            _onWaiting[WaiterKey(scope)] = handler;
        }
    }

    /// <summary>Whether the run waits on a person with its wait stored: a shutdown then suspends it instead of ending it.</summary>
    internal bool HasDurableWait
    {
        get => Volatile.Read(ref _hasDurableWait);
        set => Volatile.Write(ref _hasDurableWait, value);
    }

    /// <summary>When the run was asked for (UTC).</summary>
    public DateTime StartedAt { get; }

    /// <summary>The run's id.</summary>
    public string Id { get; }

    /// <summary>What the client asked for.</summary>
    public RunRequest Request { get; }

    /// <summary>The session the run belongs to.</summary>
    public string SessionId => Request.SessionId;

    /// <summary>The requests waiting for a person.</summary>
    public PendingRequests Pending { get; } = new();

    /// <summary>Tokens used so far, by every model call of the run (planner, experts and synthesis included).</summary>
    public Usage Usage
    {
        get
        {
            lock (_usageLock)
            {
                return _usage;
            }
        }
    }

    /// <summary>Cancelled when the run must stop.</summary>
    public CancellationToken StopToken => _stop.Token;

    /// <summary>Why the run was stopped, once it was.</summary>
    public StopReason? StopReason => _stopReason < 0 ? null : (StopReason)_stopReason;

    /// <summary>Completes when the run has ended: its terminal event stored and sent, and the run recorded as ended.</summary>
    public Task Completion => _completion.Task;

    /// <summary>
    /// Whether the terminal event has been appended: the run is over for clients and only finishing up. Set before the
    /// terminal event can reach anyone, so that a client holding it never reads the run as active.
    /// </summary>
    public bool TerminalSent => _terminalSent;

    internal void Complete() => _completion.TrySetResult();

    internal void Attach(SessionEventLog log) => _log = log;

    /// <summary>Appends an event of this run to the session's log (see <see cref="SessionEventLog.AppendAsync"/>).</summary>
    public ValueTask<SessionEvent> EmitAsync(PendingEvent pending, Action<SessionEvent>? beforePublish = null) =>
        (_log ?? throw new InvalidOperationException("The run has no event log yet.")).AppendAsync(pending, Id, beforePublish);

    /// <summary>
    /// Announces a request of the run: listed as pending, then, when its agent keeps its waits
    /// (<see cref="OnWaiting"/>), its wait is stored before any client can see the announcement.
    /// </summary>
    internal ValueTask<SessionEvent> AnnounceAsync(
        AgentEvent request, string requestId, RequestKind kind, DateTime? expiresAt, TeamScope? scope, bool keepsWait = true)
    {
        var onWaiting = keepsWait ? _onWaiting.GetValueOrDefault(WaiterKey(scope)) : null;
        return (_log ?? throw new InvalidOperationException("The run has no event log yet.")).AppendAsync(
            request,
            Id,
            announcement => Pending.Announce(requestId, announcement),
            onWaiting is null ? null : announcement => onWaiting(new OpenedWait(requestId, kind, announcement, expiresAt)));
    }

    /// <summary>Appends the run's terminal event (<c>final_answer</c> or <c>error</c>); from then on the run is over.</summary>
    internal ValueTask<SessionEvent> EndAsync(AgentEvent terminal) => EmitAsync(terminal, _ => _terminalSent = true);

    /// <summary>Marks the run over without a terminal event of its own (it could not append one).</summary>
    internal void MarkTerminalSent() => _terminalSent = true;

    /// <summary>The id of the newest event the run's session log has appended.</summary>
    internal long LastEventId => _log?.LastEventId ?? 0;

    /// <summary>Waits until everything emitted so far is stored and published.</summary>
    public Task FlushAsync() => _log?.FlushAsync() ?? Task.CompletedTask;

    /// <summary>
    /// Stops the run; the first reason given is the one reported. False when the run already has its answer and is only
    /// recording it (see <see cref="TryFinish"/>): it ends as it would have, and is not stopped.
    /// </summary>
    public bool Stop(StopReason reason)
    {
        lock (_stopLock)
        {
            if (_finishing)
            {
                return false;
            }

            Interlocked.CompareExchange(ref _stopReason, (int)reason, -1);
        }

        _stop.Cancel();
        return true;
    }

    /// <summary>
    /// Marks the run as having its answer, so that no stop can take it from here; false when a stop came first (the
    /// run then ends as stopped, whatever it has).
    /// </summary>
    internal bool TryFinish()
    {
        lock (_stopLock)
        {
            if (_stopReason >= 0)
            {
                return false;
            }

            _finishing = true;
            return true;
        }
    }

    /// <summary>Adds the tokens of one model call; experts call it concurrently.</summary>
    public void AddUsage(Usage usage)
    {
        lock (_usageLock)
        {
            _usage += usage;
        }
    }

    /// <summary>The channel through which the tools of an agent of this run ask the user.</summary>
    public IHumanChannel HumanFor(TeamScope? scope) => new HumanChannel(this, scope, keepsWait: true);

    /// <summary>
    /// The user of the agent in <paramref name="scope"/>, for questions a tool asks while it runs: never stored as the
    /// agent's wait, so a restart ends the run rather than resuming a call that is gone.
    /// </summary>
    public IHumanChannel HumanInCallFor(TeamScope? scope) => new HumanChannel(this, scope, keepsWait: false);

    /// <summary>Sends <c>ask_human</c> (naming the expert when <paramref name="scope"/> is set) and waits for the reply.</summary>
    public Task<string> AskAsync(string question, IReadOnlyList<string>? options, TeamScope? scope, CancellationToken cancellationToken = default) =>
        AskAsync(question, options, scope, keepsWait: true, cancellationToken);

    private async Task<string> AskAsync(string question, IReadOnlyList<string>? options, TeamScope? scope, bool keepsWait, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(question))
        {
            throw new ToolException("The question is empty.");
        }

        var (requestId, answer) = Pending.Open(RequestKind.Question);
        var expiresAt = ExpiryAfter(Timeouts.AskHuman);
        try
        {
            var asked = new AskHumanEvent(requestId, question)
            {
                Options = options is { Count: > 0 } ? options : null,
                TeamId = scope?.TeamId,
                Expert = scope?.Expert,
                TaskId = scope?.TaskId,
            };
            await AnnounceAsync(asked, requestId, RequestKind.Question, expiresAt, scope, keepsWait);
            return await AwaitReplyAsync(requestId, answer, expiresAt, cancellationToken);
        }
        finally
        {
            Pending.TryClose(requestId);
        }
    }

    /// <summary>Waits again for the reply to a question a previous process asked (see <see cref="PendingRequests.Restore"/>).</summary>
    internal async Task<string> ResumeAskAsync(string requestId, Task<HumanAnswer> answer, DateTime? expiresAt, CancellationToken cancellationToken)
    {
        try
        {
            return await AwaitReplyAsync(requestId, answer, expiresAt, cancellationToken);
        }
        finally
        {
            Pending.TryClose(requestId);
        }
    }

    /// <summary>When a request made now with <paramref name="timeout"/> ends unanswered; null when it never does.</summary>
    internal DateTime? ExpiryAfter(TimeSpan timeout) => timeout == Timeout.InfiniteTimeSpan ? null : _time.GetUtcNow().UtcDateTime + timeout;

    /// <summary>
    /// Waits for the answer to an open request until <paramref name="expiresAt"/> (null: no limit); null when it expired
    /// unanswered, and is then closed. A reply taken at the very deadline, or just as the run was stopped, counts: the
    /// client was told it did.
    /// </summary>
    internal async Task<HumanAnswer?> WaitForAnswerAsync(string requestId, Task<HumanAnswer> answer, DateTime? expiresAt, CancellationToken cancellationToken)
    {
        var left = expiresAt is { } at ? TimeSpan.FromTicks(Math.Max(0, (at - _time.GetUtcNow().UtcDateTime).Ticks)) : Timeout.InfiniteTimeSpan;
        try
        {
            return await answer.WaitAsync(left, _time, cancellationToken);
        }
        catch (Exception ex) when ((ex is TimeoutException or OperationCanceledException) && !Pending.TryClose(requestId))
        {
            return await answer;
        }
        catch (TimeoutException)
        {
            return null;
        }
    }

    private async Task<string> AwaitReplyAsync(string requestId, Task<HumanAnswer> answer, DateTime? expiresAt, CancellationToken cancellationToken)
    {
        var reply = await WaitForAnswerAsync(requestId, answer, expiresAt, cancellationToken) ?? throw new AskHumanTimeoutException(Timeouts.AskHuman);
        return reply.Content ?? string.Empty;
    }

    private static string WaiterKey(TeamScope? scope) => scope is null ? string.Empty : $"{scope.TeamId}/{scope.TaskId}";

    private sealed class HumanChannel(Run run, TeamScope? scope, bool keepsWait) : IHumanChannel
    {
        public Task<string> AskAsync(string question, IReadOnlyList<string>? options, CancellationToken cancellationToken = default) =>
            run.AskAsync(question, options, scope, keepsWait, cancellationToken);
    }
}

/// <summary>A request of an agent of a run, announced and about to be waited for.</summary>
/// <param name="RequestId">The request.</param>
/// <param name="Kind">What answer it waits for.</param>
/// <param name="Announcement">The event that announced it.</param>
/// <param name="ExpiresAt">When it ends unanswered, or null for never.</param>
internal sealed record OpenedWait(string RequestId, RequestKind Kind, SessionEvent Announcement, DateTime? ExpiresAt)
{
    /// <summary>The request as stored with the wait.</summary>
    public WaitRequest ToRequest() =>
        new(RequestId, Kind, System.Text.Encoding.UTF8.GetString(Announcement.Utf8Json.Span), Announcement.EventId, ExpiresAt);
}
