namespace Conclave.Agents.Events;

/// <summary>The error codes of the protocol (PROTOCOL.md §3.1).</summary>
public static class ErrorCodes
{
    /// <summary>The run was cancelled by a client, a deleted session or a shutdown.</summary>
    public const string Cancelled = "cancelled";

    /// <summary>A frame that is not JSON.</summary>
    public const string InvalidJson = "invalid_json";

    /// <summary>A frame with a missing or wrongly typed field.</summary>
    public const string InvalidMessage = "invalid_message";

    /// <summary>A frame whose <c>type</c> the server does not know.</summary>
    public const string UnknownType = "unknown_type";

    /// <summary>A message sent while the session has an active run.</summary>
    public const string RunInProgress = "run_in_progress";

    /// <summary>A cancel with no active run to cancel.</summary>
    public const string NoActiveRun = "no_active_run";

    /// <summary>A reply to a request that is not pending.</summary>
    public const string UnknownRequest = "unknown_request";

    /// <summary>A frame over the size limit.</summary>
    public const string PayloadTooLarge = "payload_too_large";

    /// <summary>Frames sent faster than the limit allows.</summary>
    public const string RateLimited = "rate_limited";

    /// <summary>A wait for the user ran out of time.</summary>
    public const string Timeout = "timeout";

    /// <summary>The model failed.</summary>
    public const string LlmError = "llm_error";

    /// <summary>Tool calls went past the step limit of a run.</summary>
    public const string ToolError = "tool_error";

    /// <summary>An unexpected failure of the server.</summary>
    public const string Internal = "internal";
}
