namespace Conclave.Agents.Runs;

/// <summary>An <c>ask_human</c> waited past its timeout; the run ends with <c>timeout</c>.</summary>
public sealed class AskHumanTimeoutException(TimeSpan timeout)
    : Exception($"No reply to the question came within {timeout.TotalSeconds:0} s.");

/// <summary>The model failed; the run ends with <c>llm_error</c>.</summary>
/// <param name="message">What failed, in words.</param>
/// <param name="inner">The failure.</param>
/// <param name="retryable">
/// Whether sending the message again can help: false when the provider refused the request (400, 401, 403, 404) or the
/// settings cannot work. The host's model layer, which knows the providers, throws a described <see cref="ModelException"/>;
/// a failure nothing described counts as retryable.
/// </param>
public sealed class ModelException(string message, Exception inner, bool retryable = true) : Exception(message, inner)
{
    /// <summary>Whether sending the message again can help.</summary>
    public bool Retryable { get; } = retryable;

    /// <summary>
    /// What a failed model call means: whatever a cancelled call throws (an aborted connection, say) is the
    /// cancellation; a <see cref="ModelException"/> stays as it is; anything else is the model failing.
    /// </summary>
    public static Exception From(Exception failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(failure);
        return cancellationToken.IsCancellationRequested
            ? failure as OperationCanceledException ?? new OperationCanceledException(cancellationToken)
            : failure as ModelException ?? new ModelException($"The model failed: {failure.Message}", failure);
    }
}

/// <summary>The model called tools more often than a run allows; the run ends with <c>tool_error</c>.</summary>
public sealed class ToolStepLimitException(int maxSteps)
    : Exception($"The run reached its limit of {maxSteps} tool calls (Conclave:Agent:MaxSteps).");

/// <summary>The session of a run no longer exists (it was deleted); the run does not start.</summary>
public sealed class SessionGoneException(string sessionId) : Exception($"The session '{sessionId}' does not exist.");

/// <summary>The session already has a run recorded as running (on this process or another); the new one does not start.</summary>
public sealed class RunInProgressException(string sessionId) : Exception($"The session '{sessionId}' already has a running run.");
