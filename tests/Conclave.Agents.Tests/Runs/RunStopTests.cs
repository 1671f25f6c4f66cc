using Conclave.Agents.Runs;

namespace Conclave.Agents.Tests.Runs;

public sealed class RunStopTests
{
    [Fact]
    public void AStopOnceTheAnswerIsInIsRefusedAndTheRunGoesOn()
    {
        var run = NewRun();

        Assert.True(run.TryFinish());
        Assert.False(run.Stop(StopReason.Cancelled));
        Assert.False(run.StopToken.IsCancellationRequested);
        Assert.Null(run.StopReason);
    }

    [Fact]
    public void AStopBeforeTheAnswerIsInWinsAndTheFirstReasonStands()
    {
        var run = NewRun();

        Assert.True(run.Stop(StopReason.Cancelled));
        Assert.True(run.Stop(StopReason.Shutdown));
        Assert.False(run.TryFinish());
        Assert.True(run.StopToken.IsCancellationRequested);
        Assert.Equal(StopReason.Cancelled, run.StopReason);
    }

    private static Run NewRun() =>
        new(new RunRequest("tenant", "session", "hello"), new WaitTimeouts(TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(1)), TimeProvider.System);
}
