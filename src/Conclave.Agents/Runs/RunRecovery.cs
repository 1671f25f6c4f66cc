using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>
/// Takes over the runs an instance left open when it stopped (it crashed, was killed, stopped answering, or lost the
/// database for longer than its lease): a run that
/// waits on a person waits again here; any other gets its terminal <c>error</c> (<c>internal</c>, retryable) in its
/// session's log, so no client waits for it forever. One process alone does this once at start, before any new run, for
/// every open run; one of several instances does it again and again, for the runs of instances no longer alive.
/// </summary>
public sealed partial class RunRecovery(
    IRunStore runs,
    IEventStore events,
    ISessionEventHub hub,
    RunCoordinator coordinator,
    InstanceIdentity instance,
    TimeProvider time,
    ILogger<RunRecovery> logger)
{
    private static readonly TokenCounter Tokens = new();

    /// <summary>
    /// Takes over the open runs of every instance but this one that has not been alive since <paramref name="ownersAliveSince"/>
    /// (<see cref="DateTime.MaxValue"/>: of every other instance); returns how many it took.
    /// </summary>
    public async Task<int> EndInterruptedRunsAsync(DateTime ownersAliveSince, CancellationToken cancellationToken = default) =>
        await RecoverAsync(await runs.ClaimOrphanedRunsAsync(instance.Id, ownersAliveSince, cancellationToken), cancellationToken);

    /// <summary>
    /// Takes up again those of <paramref name="runIds"/> that this instance stopped while it could not reach the
    /// database and that no other instance took over meanwhile, as if another instance had left them open; returns how
    /// many it took.
    /// </summary>
    public async Task<int> TakeBackAsync(IReadOnlyCollection<string> runIds, CancellationToken cancellationToken = default) =>
        await RecoverAsync(await runs.ListOwnedOpenRunsAsync(instance.Id, runIds, cancellationToken), cancellationToken);

    private async Task<int> RecoverAsync(IReadOnlyList<OpenRun> open, CancellationToken cancellationToken)
    {
        foreach (var run in open)
        {
            var newest = await events.ReadNewestAsync(run.SessionId, cancellationToken);
            var lastEventId = newest?.EventId ?? 0;
            var terminal = newest is { IsTerminal: true } && newest.RunId == run.RunId ? newest : null;
            if (terminal is null && run.Wait is not null && await coordinator.TryResumeWaitingAsync(run, cancellationToken))
            {
                LogResumed(run.RunId, run.SessionId, string.Join(", ", run.Wait.Requests.Select(r => r.RequestId)));
                continue;
            }

            if (run.Wait is not null)
            {
                await runs.DeleteWaitAsync(run.RunId, cancellationToken);
            }

            if (terminal is not null)
            {
                // The process stopped between storing the terminal event and recording the run as ended.
                await runs.EndRunAsync(run.RunId, terminal.Type == "final_answer" ? RunStatus.Completed : RunStatus.Failed, cancellationToken);
                continue;
            }

            var error = new ErrorEvent(ErrorCodes.Internal, "The server stopped during the run; send the message again.", Retryable: true)
            {
                Usage = run.Usage + new Usage(0, await CountStreamedAsync(run, cancellationToken)),
            };
            var sealedEvent = SessionEventLog.Seal(error, run.SessionId, lastEventId + 1, run.RunId, time.GetUtcNow().UtcDateTime);
            await events.AppendAsync([sealedEvent], cancellationToken);

            // Stored, then sent to whoever watches the session (on any instance, when one took over another's run).
            hub.Publish(sealedEvent);
            await runs.EndRunAsync(run.RunId, RunStatus.Failed, cancellationToken);
            LogEnded(run.RunId, run.SessionId);
        }

        return open.Count;
    }

    /// <summary>
    /// The tokens of the text the run streamed after it last recorded its usage (its model turn was cut short, uncounted),
    /// at least one for each delta.
    /// </summary>
    private async Task<long> CountStreamedAsync(OpenRun run, CancellationToken cancellationToken)
    {
        const int pageSize = 10_000;
        var streamed = 0L;
        var after = run.UsageAtEventId;
        while (true)
        {
            var page = await events.ReadAfterAsync(run.SessionId, after, pageSize, cancellationToken);
            streamed += page.Where(e => e.RunId == run.RunId).Sum(StreamedTokens);
            if (page.Count < pageSize)
            {
                return streamed;
            }

            after = page[^1].EventId;
        }
    }

    /// <summary>The tokens of a streamed delta's text (<c>token</c>, <c>thinking</c>, or an expert's of either kind); 0 for any other event.</summary>
    private static long StreamedTokens(SessionEvent e)
    {
        if (e.Type is not ("token" or "thinking" or "expert_step"))
        {
            return 0;
        }

        using var json = JsonDocument.Parse(e.Utf8Json);
        var root = json.RootElement;
        if (e.Type == "expert_step" && !(root.TryGetProperty("kind", out var kind) && (kind.ValueEquals("token") || kind.ValueEquals("thinking"))))
        {
            return 0;
        }

        return Math.Max(1, Tokens.CountText(root.GetProperty("content").GetString() ?? string.Empty));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Run {RunId} of session {SessionId} waits on {RequestIds} again, here, as it did on the instance that stopped")]
    private partial void LogResumed(string runId, string sessionId, string requestIds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} of session {SessionId} was left open by an instance that stopped or lost the database; ended it with error internal")]
    private partial void LogEnded(string runId, string sessionId);
}
