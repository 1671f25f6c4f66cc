using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conclave.Agents.Teams;

/// <summary>A task of a plan, as the planner wrote it.</summary>
public sealed record PlanTask(
    [property: JsonPropertyName("task_id")] string TaskId,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("expert")] string Expert,
    [property: JsonPropertyName("depends_on")] IReadOnlyList<string>? DependsOn)
{
    /// <summary>The tasks that must be done first (none when left out).</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Dependencies => DependsOn ?? [];
}

/// <summary>
/// Reads the planner's answer and checks it: a JSON object <c>{"tasks": [...]}</c> (or the bare array),
/// known experts, unique ids, dependencies that exist, no cycles, and at most the allowed number of tasks.
/// </summary>
public static class TeamPlanReader
{
    /// <summary>The plan, or null with the reason it is not valid (told back to the planner).</summary>
    public static (IReadOnlyList<PlanTask>? Plan, string? Error) Read(string answer, IReadOnlyCollection<string> experts, int maxTasks)
    {
        ArgumentNullException.ThrowIfNull(answer);
        List<PlanTask>? tasks;
        try
        {
            tasks = Parse(ExtractJson(answer));
        }
        catch (JsonException ex)
        {
            return (null, $"the answer is not the JSON plan asked for ({ex.Message})");
        }

        if (tasks is null || tasks.Count == 0)
        {
            return (null, "the plan has no tasks");
        }

        if (tasks.Count > maxTasks)
        {
            return (null, $"the plan has {tasks.Count} tasks; at most {maxTasks} are allowed");
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in tasks)
        {
            if (string.IsNullOrWhiteSpace(task.TaskId) || string.IsNullOrWhiteSpace(task.Title) || string.IsNullOrWhiteSpace(task.Expert))
            {
                return (null, "every task needs a task_id, a title and an expert");
            }

            if (!ids.Add(task.TaskId))
            {
                return (null, $"the task id '{task.TaskId}' is used twice");
            }

            if (!experts.Contains(task.Expert))
            {
                return (null, $"task '{task.TaskId}' names the expert '{task.Expert}', which does not exist; the experts are {string.Join(", ", experts)}");
            }
        }

        foreach (var task in tasks)
        {
            if (task.Dependencies.FirstOrDefault(d => !ids.Contains(d)) is { } missing)
            {
                return (null, $"task '{task.TaskId}' depends on '{missing}', which is not in the plan");
            }
        }

        return FindCycle(tasks) is { } cycle
            ? (null, $"the tasks depend on each other in a cycle: {string.Join(" -> ", cycle)}")
            : (tasks, null);
    }

    private static List<PlanTask>? Parse(string json)
    {
        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var array = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tasks", out var tasks) ? tasks : root;
        if (array.ValueKind != JsonValueKind.Array)
        {
            throw new JsonException("expected an object with a 'tasks' array");
        }

        return array.Deserialize<List<PlanTask>>();
    }

    // Models often wrap JSON in prose or a ``` fence: take the outermost object or array.
    private static string ExtractJson(string answer)
    {
        var start = answer.IndexOfAny(['{', '[']);
        var end = answer.LastIndexOfAny(['}', ']']);
        return start >= 0 && end > start ? answer[start..(end + 1)] : answer;
    }

    private static List<string>? FindCycle(List<PlanTask> tasks)
    {
        var byId = tasks.ToDictionary(t => t.TaskId, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 visiting, 2 done
        var path = new List<string>();

        List<string>? Visit(string id)
        {
            if (state.TryGetValue(id, out var s))
            {
                return s == 1 ? [.. path.SkipWhile(p => p != id), id] : null;
            }

            state[id] = 1;
            path.Add(id);
            foreach (var dependency in byId[id].Dependencies)
            {
                if (Visit(dependency) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            state[id] = 2;
            return null;
        }

        return tasks.Select(t => Visit(t.TaskId)).FirstOrDefault(c => c is not null);
    }
}
