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
[JsonDerivedType(typeof(TeamFormedEvent), "team_formed")]
[JsonDerivedType(typeof(PlanUpdateEvent), "plan_update")]
[JsonDerivedType(typeof(ExpertStepEvent), "expert_step")]
[JsonDerivedType(typeof(ExpertResultEvent), "expert_result")]
[JsonDerivedType(typeof(TeamSynthesisEvent), "team_synthesis")]
[JsonDerivedType(typeof(TeamDissolvedEvent), "team_dissolved")]
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
public sealed record ThinkingEvent(string Content) : AgentEvent("thinking");

/// <summary>A delta of the answer text.</summary>
public sealed record TokenEvent(string Content) : AgentEvent("token");

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
public sealed record FinalAnswerEvent(string Content, Usage Usage, string FinishReason) : AgentEvent("final_answer");

/// <summary>A skill matched the message and shapes the run.</summary>
public sealed record SkillMatchEvent(string Skill, double Score, IReadOnlyList<string> Matched) : AgentEvent("skill_match");

/// <summary>An event that a team's expert may cause: it then names the team, the expert and the task.</summary>
public abstract record ScopedEvent : AgentEvent
{
    /// <summary>Creates an event of the given wire type.</summary>
    protected ScopedEvent(string type)
        : base(type)
    {
    }

    /// <summary>The team, when an expert of a team caused the event.</summary>
    public string? TeamId { get; init; }

    /// <summary>The expert that caused the event.</summary>
    public string? Expert { get; init; }

    /// <summary>The task the expert works on.</summary>
    public string? TaskId { get; init; }
}

/// <summary>A tool waits for the user's approval.</summary>
public sealed record ConfirmationRequestEvent(
    string RequestId, string Tool, JsonElement Arguments, string Reason, DateTime? ExpiresAt) : ScopedEvent("confirmation_request");

/// <summary>How a confirmation request was decided.</summary>
public sealed record ConfirmationResultEvent(string RequestId, bool Approved, string By) : ScopedEvent("confirmation_result")
{
    /// <summary>The reason given with the decision, if any.</summary>
    public string? Reason { get; init; }
}

/// <summary>The agent asks the user a question and waits for a reply.</summary>
public sealed record AskHumanEvent(string RequestId, string Question) : ScopedEvent("ask_human")
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

/// <summary>An expert and what it is for, as a team announces it.</summary>
public sealed record TeamMember(string Name, string Role);

/// <summary>A task of a team's plan and where it stands.</summary>
/// <param name="TaskId">The task's id, unique in the plan.</param>
/// <param name="Title">What the task is.</param>
/// <param name="Expert">The expert that works on it.</param>
/// <param name="Status"><c>pending</c>, <c>running</c>, <c>done</c>, <c>failed</c> or <c>cancelled</c>.</param>
/// <param name="DependsOn">The tasks that must be done first.</param>
public sealed record PlanTaskState(string TaskId, string Title, string Expert, string Status, IReadOnlyList<string> DependsOn);

/// <summary>A team was formed for a goal.</summary>
public sealed record TeamFormedEvent(string TeamId, string Goal, IReadOnlyList<TeamMember> Experts) : AgentEvent("team_formed");

/// <summary>A task of the team's plan changed state; carries the whole plan.</summary>
public sealed record PlanUpdateEvent(string TeamId, IReadOnlyList<PlanTaskState> Plan) : AgentEvent("plan_update");

/// <summary>A delta of an expert's work: <c>thinking</c>, <c>token</c> or <c>tool</c>.</summary>
public sealed record ExpertStepEvent(string TeamId, string Expert, string TaskId, string Content, string Kind) : AgentEvent("expert_step");

/// <summary>An expert finished its task.</summary>
public sealed record ExpertResultEvent(string TeamId, string Expert, string TaskId, string Content) : AgentEvent("expert_result");

/// <summary>The team's combined answer.</summary>
public sealed record TeamSynthesisEvent(string TeamId, string Content) : AgentEvent("team_synthesis");

/// <summary>The team ended: <c>completed</c>, <c>cancelled</c> or <c>failed</c>.</summary>
public sealed record TeamDissolvedEvent(string TeamId, string Reason) : AgentEvent("team_dissolved");
