using System.Text.Json;
using Conclave.Agents.Events;

namespace Conclave.Agents.Runs;

/// <summary>Which expert of which team, on which task, an agent works for.</summary>
public sealed record TeamScope(string TeamId, string Expert, string TaskId);

/// <summary>
/// Where an agent's stream goes: a single run's own <c>thinking</c>, <c>token</c> and <c>step</c> events,
/// or an expert's <c>expert_step</c> events.
/// </summary>
public abstract class AgentOutput
{
    /// <summary>Creates the output of an agent working for <paramref name="run"/>.</summary>
    protected AgentOutput(Run run, TeamScope? scope)
    {
        Run = run;
        Scope = scope;
    }

    /// <summary>The run the agent works for.</summary>
    public Run Run { get; }

    /// <summary>The team, expert and task, when the agent is an expert.</summary>
    public TeamScope? Scope { get; }

    /// <summary>The output of a single agent: the run's own events.</summary>
    public static AgentOutput ForRun(Run run) => new RunOutput(run);

    /// <summary>The output of an expert: <c>expert_step</c> events.</summary>
    public static AgentOutput ForExpert(Run run, TeamScope scope) => new ExpertOutput(run, scope);

    /// <summary>A delta of reasoning.</summary>
    public abstract ValueTask ThinkingAsync(string text);

    /// <summary>A delta of the answer.</summary>
    public abstract ValueTask TokenAsync(string text);

    /// <summary>A tool call starts.</summary>
    public abstract ValueTask StepStartedAsync(int step, string tool, JsonElement arguments);

    /// <summary>A tool call ended with a result or an error.</summary>
    public abstract ValueTask StepEndedAsync(int step, string tool, JsonElement arguments, JsonElement? result, string? error);

    private sealed class RunOutput(Run run) : AgentOutput(run, null)
    {
        public override async ValueTask ThinkingAsync(string text) => await Run.EmitAsync(PendingEvent.Thinking(text));

        public override async ValueTask TokenAsync(string text) => await Run.EmitAsync(PendingEvent.Token(text));

        public override async ValueTask StepStartedAsync(int step, string tool, JsonElement arguments) =>
            await Run.EmitAsync(new StepEvent(step, StepEvent.Start, tool, arguments));

        public override async ValueTask StepEndedAsync(int step, string tool, JsonElement arguments, JsonElement? result, string? error) =>
            await Run.EmitAsync(new StepEvent(step, StepEvent.End, tool, arguments) { Result = result, Error = error });
    }

    private sealed class ExpertOutput(Run run, TeamScope scope) : AgentOutput(run, scope)
    {
        public override ValueTask ThinkingAsync(string text) => EmitAsync(text, "thinking");

        public override ValueTask TokenAsync(string text) => EmitAsync(text, "token");

        public override ValueTask StepStartedAsync(int step, string tool, JsonElement arguments) =>
            EmitAsync($"{tool} {arguments.GetRawText()}", "tool");

        public override ValueTask StepEndedAsync(int step, string tool, JsonElement arguments, JsonElement? result, string? error) =>
            EmitAsync(error is null ? $"{tool} returned: {Describe(result)}" : $"{tool} was not run: {error}", "tool");

        private static string Describe(JsonElement? result) =>
            result is { ValueKind: JsonValueKind.String } text ? text.GetString() ?? string.Empty : result?.GetRawText() ?? string.Empty;

        private async ValueTask EmitAsync(string content, string kind) =>
            await Run.EmitAsync(new ExpertStepEvent(Scope!.TeamId, Scope.Expert, Scope.TaskId, content, kind));
    }
}
