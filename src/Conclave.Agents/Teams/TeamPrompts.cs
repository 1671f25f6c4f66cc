using System.Text;

namespace Conclave.Agents.Teams;

/// <summary>
/// The prompts of a team run. Each role's system prompt opens with a fixed sentence, which is also how
/// the builtin model knows which part it plays.
/// </summary>
public static class TeamPrompts
{
    /// <summary>The opening of the planner's system prompt.</summary>
    public const string PlannerOpening = "You are the planner of a team of experts.";

    /// <summary>The opening of an expert's system prompt.</summary>
    public const string ExpertOpening = "You are an expert in a team.";

    /// <summary>The opening of the synthesis's system prompt.</summary>
    public const string SynthesisOpening = "You combine the results of a team of experts.";

    /// <summary>The line of an expert's and the synthesis's input that holds the goal.</summary>
    public const string GoalLine = "Goal: ";

    /// <summary>The start of the line that heads each task in the synthesis's input.</summary>
    public const string TaskHeading = "### ";

    /// <summary>The planner's system prompt.</summary>
    public static string Planner(IEnumerable<Expert> experts, int maxTasks, string? instructions)
    {
        var text = new StringBuilder(PlannerOpening).Append(' ')
            .Append("Split the user's goal into at most ").Append(maxTasks).Append(" tasks, each for one of these experts:\n");
        foreach (var expert in experts)
        {
            text.Append("- ").Append(expert.Name).Append(": ").Append(expert.Role).Append('\n');
        }

        text.Append("""
            Tasks that do not depend on each other run at the same time; a task that needs the results of
            others lists their ids in depends_on. Reply with JSON only, in this form:
            {"tasks": [{"task_id": "research", "title": "What to find out", "expert": "researcher", "depends_on": []}]}
            """);
        if (!string.IsNullOrWhiteSpace(instructions))
        {
            text.Append("\nInstructions for this goal: ").Append(instructions);
        }

        return text.ToString();
    }

    /// <summary>What the planner is told when its plan was not valid.</summary>
    public static string PlanRejected(string reason) =>
        $"That plan cannot be used: {reason}. Reply with a corrected plan, JSON only.";

    /// <summary>An expert's system prompt.</summary>
    public static string ExpertSystem(Expert expert) =>
        $"{ExpertOpening} You are {expert.Name}: {expert.Role}.\n{expert.Instructions}";

    /// <summary>An expert's input: the goal, its task and the results of the tasks it depends on.</summary>
    public static string ExpertTask(string goal, PlanTask task, IEnumerable<(PlanTask Task, string Result)> dependencies)
    {
        var text = new StringBuilder(GoalLine).Append(goal).Append('\n')
            .Append("Your task (").Append(task.TaskId).Append("): ").Append(task.Title).Append('\n');
        foreach (var (dependency, result) in dependencies)
        {
            text.Append('\n').Append(TaskHeading).Append(dependency.TaskId).Append(" (").Append(dependency.Expert).Append("): ")
                .Append(dependency.Title).Append('\n').Append(result).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The synthesis's system prompt.</summary>
    public static string SynthesisSystem(string? instructions) =>
        SynthesisOpening + " Answer the user's goal from the results of the tasks below in one clear text. " +
        "Name every task; where a task failed or was not done, say what is missing." +
        (string.IsNullOrWhiteSpace(instructions) ? string.Empty : "\nInstructions for this goal: " + instructions);

    /// <summary>The synthesis's input: the goal and every task with its outcome.</summary>
    public static string SynthesisInput(string goal, IEnumerable<(PlanTask Task, string Status, string Content)> outcomes)
    {
        var text = new StringBuilder(GoalLine).Append(goal).Append('\n');
        foreach (var (task, status, content) in outcomes)
        {
            text.Append('\n').Append(TaskHeading).Append(task.TaskId).Append(" (").Append(task.Expert).Append("): ")
                .Append(status).Append('\n').Append(content).Append('\n');
        }

        return text.ToString();
    }
}
