using System.Threading.Tasks.Sources;

namespace Conclave.Agents.Models;

/// <summary>
/// Paces one stream: the same delay before each of its tokens, on one timer and one cancellation registration for the
/// whole stream. A <see cref="Task.Delay(TimeSpan, CancellationToken)"/> per token would make a timer, a task and a
/// registration each time: at a thousand streams, about a sixth of all the server allocated.
/// </summary>
/// <remarks>
/// One wait at a time: <see cref="WaitAsync"/> again only once the previous wait has been awaited. As with
/// <see cref="Task.Delay(TimeSpan, CancellationToken)"/>, what awaits a wait runs on the timer's thread, or on the one
/// that cancels; a wait ends as the first of the two does, and a cancel ends it with a
/// <see cref="TaskCanceledException"/>.
/// </remarks>
public sealed class StreamPacer : IValueTaskSource, IDisposable
{
    private readonly TimeSpan _delay;
    private readonly CancellationToken _cancellationToken;
    private readonly ITimer _timer;
    private readonly CancellationTokenRegistration _registration;
    private ManualResetValueTaskSourceCore<bool> _wait;

    // 1 while a wait is pending: the timer and a cancel race to complete it, and only the first does.
    private int _waiting;

    // Whether the pending (or last) wait was ended by the cancel; set before it completes.
    private volatile bool _cancelled;

    /// <summary>Makes the pacer of one stream; dispose it when the stream ends.</summary>
    public StreamPacer(TimeProvider time, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(time);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(delay, TimeSpan.Zero);
        _delay = delay;
        _cancellationToken = cancellationToken;
        _timer = CreateTimer(time, static state => ((StreamPacer)state!).Complete(cancelled: false), this);
        _registration = cancellationToken.UnsafeRegister(static state => ((StreamPacer)state!).Complete(cancelled: true), this);
    }

    /// <summary>A wait that ends once the delay has passed since this call, or, cancelled, once the stream is.</summary>
    public ValueTask WaitAsync()
    {
        if (_cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled(_cancellationToken);
        }

        _wait.Reset();
        _cancelled = false;
        Interlocked.Exchange(ref _waiting, 1);
        _timer.Change(_delay, Timeout.InfiniteTimeSpan);
        if (_cancellationToken.IsCancellationRequested)
        {
            // A cancel that came before the wait was pending found nothing to end.
            Complete(cancelled: true);
        }

        return new ValueTask(this, _wait.Version);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _registration.Dispose();
        _timer.Dispose();
    }

    void IValueTaskSource.GetResult(short token)
    {
        _wait.GetResult(token);
        if (_cancelled)
        {
            throw new TaskCanceledException(null, null, _cancellationToken);
        }
    }

    ValueTaskSourceStatus IValueTaskSource.GetStatus(short token)
    {
        var status = _wait.GetStatus(token);
        return status == ValueTaskSourceStatus.Succeeded && _cancelled ? ValueTaskSourceStatus.Canceled : status;
    }

    void IValueTaskSource.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _wait.OnCompleted(continuation, state, token, flags);

    /// <summary>
    /// A timer that, as Task.Delay's, does not hold on to the caller's execution context (its async locals) for the
    /// stream's life, nor runs its callback in it.
    /// </summary>
    private static ITimer CreateTimer(TimeProvider time, TimerCallback callback, object state)
    {
        if (ExecutionContext.IsFlowSuppressed())
        {
            return time.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }

        using (ExecutionContext.SuppressFlow())
        {
            return time.CreateTimer(callback, state, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        }
    }

    private void Complete(bool cancelled)
    {
        if (Interlocked.Exchange(ref _waiting, 0) == 1)
        {
            _cancelled = cancelled;
            _wait.SetResult(true);
        }
    }
}
