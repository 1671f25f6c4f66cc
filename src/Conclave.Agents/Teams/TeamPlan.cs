using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

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
public static partial class TeamPlanReader
{
    /// <summary>The plan, or null with the reason it is not valid (told back to the planner).</summary>
    public static (IReadOnlyList<PlanTask>? Plan, string? Error) Read(string answer, IReadOnlyCollection<string> experts, int maxTasks)
    {
        ArgumentNullException.ThrowIfNull(answer);
        var (tasks, unreadable) = Parse(answer);
        if (unreadable is not null)
        {
            return (null, unreadable);
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

    /// <summary>The tasks of the first JSON in the answer, or why there are none, in words.</summary>
    private static (List<PlanTask>? Tasks, string? Error) Parse(string answer)
    {
        JsonDocument? document = null;
        foreach (var candidate in JsonCandidates(answer))
        {
            try
            {
                document = JsonDocument.Parse(candidate);
                break;
            }
            catch (JsonException)
            {
                // Not JSON: the next candidate may be.
            }
        }

        if (document is null)
        {
            return (null, "the answer holds no JSON object with a \"tasks\" list");
        }

        using (document)
        {
            var root = document.RootElement;
            var array = root.ValueKind == JsonValueKind.Object && root.TryGetProperty("tasks", out var tasks) ? tasks : root;
            if (array.ValueKind != JsonValueKind.Array)
            {
                return (null, "the answer's JSON has no \"tasks\" list");
            }

            try
            {
                return (array.Deserialize<List<PlanTask>>(), null);
            }
            catch (JsonException)
            {
                return (null, "the plan's tasks are not objects with a task_id, a title, an expert and depends_on (a list of task ids)");
            }
        }
    }

    /// <summary>
    /// Where the plan's JSON may be, most likely first: the answer itself, the inside of each ``` fence, and the
    /// stretch from the first brace or bracket to the last (JSON inside prose).
    /// </summary>
    private static IEnumerable<string> JsonCandidates(string answer)
    {
        yield return answer;
        foreach (Match fence in Fence().Matches(answer))
        {
            yield return fence.Groups[1].Value;
        }

        var start = answer.IndexOfAny(['{', '[']);
        var end = answer.LastIndexOfAny(['}', ']']);
        if (start >= 0 && end > start)
        {
            yield return answer[start..(end + 1)];
        }
    }

    [GeneratedRegex("```(?:json)?(.*?)```", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Fence();

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
