using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conclave.Agents.Events;

/// <summary>
/// An event of a run, as clients receive it and as the session's event log stores it.
/// <see cref="EventId"/> and <see cref="Ts"/> are stamped by <see cref="SessionEventLog"/> when the event is appended.
/// </summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "type")]
[JsonDerivedType(typeof(ThinkingEvent), "thinking")]
[JsonDerivedType(typeof(TokenEvent), "token")]
[JsonDerivedType(typeof(StepEvent), "step")]
[JsonDerivedType(typeof(FinalAnswerEvent), "final_answer")]
[JsonDerivedType(typeof(SkillMatchEvent), "skill_match")]
[JsonDerivedType(typeof(ConfirmationRequestEvent), "confirmation_request")]
[JsonDerivedType(typeof(ConfirmationResultEvent), "confirmation_result")]
[JsonDerivedType(typeof(AskHumanEvent), "ask_human")]
[JsonDerivedType(typeof(ErrorEvent), "error")]
public abstract record AgentEvent
{
    /// <summary>The position of the event in its session's log: 1, 2, 3, ... with no gaps.</summary>
    [JsonPropertyOrder(-3)]
    public long EventId { get; internal set; }

    /// <summary>When the event was appended (UTC).</summary>
    [JsonPropertyOrder(-2)]
    public DateTime Ts { get; internal set; }

    /// <summary>The run the event belongs to.</summary>
    [JsonPropertyOrder(-1)]
    public string? RunId { get; internal set; }

    /// <summary>The wire name of the event type (written as the <c>type</c> discriminator).</summary>
    [JsonIgnore]
    public string Type { get; }

    /// <summary>Creates an event of the given wire type.</summary>
    protected AgentEvent(string type) => Type = type;
}

/// <summary>A delta of the model's reasoning.</summary>
public sealed record ThinkingEvent(string Content) : AgentEvent("thinking")
{}

/// <summary>A delta of the answer text.</summary>
public sealed record TokenEvent(string Content) : AgentEvent("token")
{}

/// <summary>The start or the end of a tool call.</summary>
public sealed record StepEvent(int Step, string Phase, string Tool, JsonElement Arguments) : AgentEvent("step")
{
    /// <summary>Phase name of a step that starts.</summary>
    public const string Start = "start";

    /// <summary>Phase name of a step that ended.</summary>
    public const string End = "end";

    /// <summary>The tool's result, at <c>end</c> when it ran.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>Why the tool did not run or failed, at <c>end</c>.</summary>
    public string? Error { get; init; }
}

/// <summary>Token counts of a run.</summary>
public sealed record Usage(long InputTokens, long OutputTokens)
{
    /// <summary>No tokens.</summary>
    public static Usage None { get; } = new(0, 0);

    /// <summary>Adds two counts.</summary>
    public static Usage operator +(Usage left, Usage right) =>
        new(left.InputTokens + right.InputTokens, left.OutputTokens + right.OutputTokens);
}

/// <summary>The terminal event of a run that answered.</summary>
public sealed record FinalAnswerEvent(string Content, Usage Usage, string FinishReason) : AgentEvent("final_answer")
{}

/// <summary>A skill matched the message and shapes the run.</summary>
public sealed record SkillMatchEvent(string Skill, double Score, IReadOnlyList<string> Matched) : AgentEvent("skill_match")
{}

/// <summary>A tool waits for the user's approval.</summary>
public sealed record ConfirmationRequestEvent(
    string RequestId, string Tool, JsonElement Arguments, string Reason, DateTime ExpiresAt) : AgentEvent("confirmation_request")
{}

/// <summary>How a confirmation request was decided.</summary>
public sealed record ConfirmationResultEvent(string RequestId, bool Approved, string By) : AgentEvent("confirmation_result")
{
    /// <summary>The reason given with the decision, if any.</summary>
    public string? Reason { get; init; }
}

/// <summary>The agent asks the user a question and waits for a reply.</summary>
public sealed record AskHumanEvent(string RequestId, string Question) : AgentEvent("ask_human")
{
    /// <summary>Suggested answers, if the agent gave any.</summary>
    public IReadOnlyList<string>? Options { get; init; }
}

/// <summary>The terminal event of a run that failed or was cancelled.</summary>
public sealed record ErrorEvent(string Code, string Message, bool Retryable) : AgentEvent("error")
{
    /// <summary>Tokens used before the run ended.</summary>
    public Usage? Usage { get; init; }
}
