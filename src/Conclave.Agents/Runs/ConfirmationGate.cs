using System.Text.Json;
using Conclave.Agents.Events;
using Conclave.Agents.Tools;
using Microsoft.Extensions.Logging;

namespace Conclave.Agents.Runs;

/// <summary>The outcome of a confirmation: whether the tool may run, and if not, why.</summary>
public sealed record ConfirmationDecision(bool Approved, string? Reason);

/// <summary>
/// Holds a tool that needs approval until a person decides: sends <c>confirmation_request</c>, waits for a
/// <c>confirmation_reply</c> from any socket or the run's timeout (<see cref="WaitTimeouts.Confirmation"/>), and sends
/// <c>confirmation_result</c>. Each request and each outcome is a log line (the tool's name, never its arguments).
/// </summary>
public sealed partial class ConfirmationGate(ILogger logger)
{
    /// <summary>
    /// Asks for approval of one tool call. <paramref name="decided"/> runs once the answer (or the expiry) is taken, before
    /// the <c>confirmation_result</c> goes out: a stored wait goes there, so that no restart asks again what a client saw
    /// decided.
    /// </summary>
    public async Task<ConfirmationDecision> RequestAsync(
        Run run, AgentTool tool, JsonElement arguments, TeamScope? scope, Func<Task>? decided = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(tool);
        var (requestId, answer) = run.Pending.Open(RequestKind.Confirmation);
        try
        {
            // No expires_at when confirmations do not expire.
            var expiresAt = run.ExpiryAfter(run.Timeouts.Confirmation);
            var reason = tool.ConfirmationReason ?? $"{tool.Name} needs your approval.";
            var request = new ConfirmationRequestEvent(requestId, tool.Name, arguments, reason, expiresAt)
            {
                TeamId = scope?.TeamId,
                Expert = scope?.Expert,
                TaskId = scope?.TaskId,
            };
            await run.AnnounceAsync(request, requestId, RequestKind.Confirmation, expiresAt, scope);
            LogRequested(requestId, run.Id, tool.Name);
            return await DecideAsync(run, requestId, answer, expiresAt, scope, decided, cancellationToken);
        }
        finally
        {
            run.Pending.TryClose(requestId);
        }
    }

    /// <summary>
    /// Waits again for the answer to a confirmation a previous process asked for (see <see cref="PendingRequests.Restore"/>);
    /// <paramref name="decided"/> as in <see cref="RequestAsync"/>.
    /// </summary>
    public async Task<ConfirmationDecision> ResumeAsync(
        Run run, RestoredWait wait, TeamScope? scope, Func<Task>? decided = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(wait);
        try
        {
            return await DecideAsync(run, wait.RequestId, wait.Answer, wait.ExpiresAt, scope, decided, cancellationToken);
        }
        finally
        {
            run.Pending.TryClose(wait.RequestId);
        }
    }

    private async Task<ConfirmationDecision> DecideAsync(
        Run run, string requestId, Task<HumanAnswer> answer, DateTime? expiresAt, TeamScope? scope, Func<Task>? decided, CancellationToken cancellationToken)
    {
        // A reply taken just as the run was stopped is recorded too: a stopped run then does not run the tool.
        var reply = await run.WaitForAnswerAsync(requestId, answer, expiresAt, cancellationToken);
        if (decided is not null)
        {
            await decided();
        }

        LogDecided(requestId, run.Id, reply is null ? "denied by timeout" : reply.Approved ? "approved by the user" : "denied by the user");
        if (reply is null)
        {
            var expired = $"No approval came by {expiresAt:yyyy-MM-dd HH:mm:ss} UTC.";
            await run.EmitAsync(new ConfirmationResultEvent(requestId, Approved: false, By: "timeout")
            {
                Reason = expired,
                TeamId = scope?.TeamId,
                Expert = scope?.Expert,
                TaskId = scope?.TaskId,
            });
            return new ConfirmationDecision(false, $"the request expired: {expired}");
        }

        await run.EmitAsync(new ConfirmationResultEvent(requestId, reply.Approved, By: "user")
        {
            Reason = reply.Content,
            TeamId = scope?.TeamId,
            Expert = scope?.Expert,
            TaskId = scope?.TaskId,
        });
        return reply.Approved
            ? new ConfirmationDecision(true, null)
            : new ConfirmationDecision(false, string.IsNullOrWhiteSpace(reply.Content) ? "the user denied it" : $"the user denied it: {reply.Content}");
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Confirmation {RequestId} of run {RunId} asks to run {Tool}")]
    private partial void LogRequested(string requestId, string runId, string tool);

    [LoggerMessage(Level = LogLevel.Information, Message = "Confirmation {RequestId} of run {RunId}: {Outcome}")]
    private partial void LogDecided(string requestId, string runId, string outcome);
}
