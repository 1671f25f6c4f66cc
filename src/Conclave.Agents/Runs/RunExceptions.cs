namespace Conclave.Agents.Runs;

/// <summary>An <c>ask_human</c> waited past its timeout; the run ends with <c>timeout</c>.</summary>
public sealed class AskHumanTimeoutException(TimeSpan timeout)
    : Exception($"No reply to the question came within {timeout.TotalSeconds:0} s.");

/// <summary>The model failed; the run ends with <c>llm_error</c>.</summary>
public sealed class ModelException(string message, Exception inner) : Exception(message, inner)
{
    /// <summary>
    /// What a failed model call means: whatever a cancelled call throws (an aborted connection, say) is the
    /// cancellation; anything else is the model failing.
    /// </summary>
    public static Exception From(Exception failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return cancellationToken.IsCancellationRequested
            ? failure as OperationCanceledException ?? new OperationCanceledException(cancellationToken)
            : new ModelException($"The model failed: {failure.Message}", failure);
    }
}

/// <summary>The model called tools more often than a run allows; the run ends with <c>tool_error</c>.</summary>
public sealed class ToolStepLimitException(int maxSteps)
    : Exception($"The run reached its limit of {maxSteps} tool calls (Conclave:Agent:MaxSteps).");

/// <summary>The session of a run no longer exists (it was deleted); the run does not start.</summary>
public sealed class SessionGoneException(string sessionId) : Exception($"The session '{sessionId}' does not exist.");

/// <summary>The session already has a run recorded as running (on this process or another); the new one does not start.</summary>
public sealed class RunInProgressException(string sessionId) : Exception($"The session '{sessionId}' already has a running run.");
