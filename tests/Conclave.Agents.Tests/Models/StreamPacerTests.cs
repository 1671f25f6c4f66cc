using Conclave.Agents.Models;
using Microsoft.Extensions.Time.Testing;

namespace Conclave.Agents.Tests.Models;

public sealed class StreamPacerTests
{
    private static readonly TimeSpan Delay = TimeSpan.FromMilliseconds(10);

    [Fact]
    public void AWaitCompletesOnlyOnceTheDelayHasPassedSinceItBegan()
    {
        var time = new FakeTimeProvider();
        using var pacer = new StreamPacer(time, Delay, CancellationToken.None);

        var wait = pacer.WaitAsync();
        time.Advance(Delay - TimeSpan.FromMilliseconds(1));
        Assert.False(wait.IsCompleted);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.True(wait.IsCompletedSuccessfully);
    }

    [Fact]
    public async Task EveryWaitOfTheStreamWaitsTheWholeDelayAgain()
    {
        var time = new FakeTimeProvider();
        using var pacer = new StreamPacer(time, Delay, CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            var wait = pacer.WaitAsync();
            time.Advance(Delay / 2);
            Assert.False(wait.IsCompleted);

            time.Advance(Delay / 2);
            Assert.True(wait.IsCompletedSuccessfully);
            await wait;
        }
    }

    [Fact]
    public async Task WaitingAgainAllocatesNothing()
    {
        var time = new ManualTimerProvider();
        using var pacer = new StreamPacer(time, Delay, CancellationToken.None);

        // One wait outside the count: the runtime makes a few shared objects the first time any such wait completes.
        var first = pacer.WaitAsync();
        time.Timer.Fire();
        await first;

        var timesSet = 0;
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            var wait = pacer.WaitAsync();
            timesSet += time.Timer.DueTime == Delay ? 1 : 0;
            time.Timer.Fire();
            await wait; // complete by now: read at once, nothing suspended
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.Equal(100, timesSet);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ACancelEndsTheWaitAtOnceWhetherItCameBeforeOrDuringIt(bool cancelFirst)
    {
        using var cancel = new CancellationTokenSource();
        using var pacer = new StreamPacer(new FakeTimeProvider(), Delay, cancel.Token);
        if (cancelFirst)
        {
            await cancel.CancelAsync();
        }

        var wait = pacer.WaitAsync();
        if (!cancelFirst)
        {
            await cancel.CancelAsync();
        }

        // No time has passed on the fake clock: only the cancel can have ended the wait.
        Assert.True(wait.IsCanceled);
        await Assert.ThrowsAsync<TaskCanceledException>(async () => await wait);
    }

    [Fact]
    public async Task AWaitThatEndedBeforeTheCancelStaysEndedAndTheNextIsCancelled()
    {
        // As Task.Delay: a delay that has passed is not undone by a later cancel; the stream ends at its next wait.
        var time = new FakeTimeProvider();
        using var cancel = new CancellationTokenSource();
        using var pacer = new StreamPacer(time, Delay, cancel.Token);

        var wait = pacer.WaitAsync();
        time.Advance(Delay);
        await cancel.CancelAsync();

        Assert.True(wait.IsCompletedSuccessfully);
        await wait;
        await Assert.ThrowsAsync<TaskCanceledException>(async () => await pacer.WaitAsync());
    }

    [Fact]
    public async Task TheTimerDoesNotRunInTheExecutionContextOfTheStreamsStart()
    {
        // The system clock's timers flow the context they were made in, unless told not to.
        var seen = new AsyncLocal<string?>();
        seen.Value = "the stream's start";
        using var pacer = new StreamPacer(TimeProvider.System, TimeSpan.FromMilliseconds(1), CancellationToken.None);
        seen.Value = null;

        var inTimer = new TaskCompletionSource<string?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var wait = pacer.WaitAsync();
        wait.GetAwaiter().UnsafeOnCompleted(() => inTimer.SetResult(seen.Value)); // runs on the timer's thread, in its context

        Assert.Null(await inTimer.Task.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    /// <summary>A clock whose one timer fires when told, allocating nothing (the fake clock's timers allocate as they are set).</summary>
    private sealed class ManualTimerProvider : TimeProvider
    {
        public ManualTimer Timer { get; private set; } = null!;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
            Timer = new ManualTimer(callback, state);
    }

    private sealed class ManualTimer(TimerCallback callback, object? state) : ITimer
    {
        public TimeSpan DueTime { get; private set; } = Timeout.InfiniteTimeSpan;

        public void Fire()
        {
            DueTime = Timeout.InfiniteTimeSpan;
            callback(state);
        }

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            DueTime = dueTime;
            return true;
        }

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
