using Conclave.Agents.Teams;

namespace Conclave.Agents.Tests.Teams;

public sealed class TeamPlanReaderTests
{
    private static readonly string[] Experts = ["researcher", "analyst", "writer"];

    [Fact]
    public void ValidPlanIsReadWithItsDependencies()
    {
        var (plan, error) = TeamPlanReader.Read(
            """{"tasks": [{"task_id": "a", "title": "A", "expert": "researcher"}, {"task_id": "b", "title": "B", "expert": "writer", "depends_on": ["a"]}]}""",
            Experts, 8);

        Assert.Null(error);
        Assert.NotNull(plan);
        Assert.Equal(["a", "b"], plan.Select(t => t.TaskId));
        Assert.Empty(plan[0].Dependencies);
        Assert.Equal(["a"], plan[1].Dependencies);
    }

    [Fact]
    public void PlanInsideProseOrAFenceOrAsABareArrayIsRead()
    {
        var fenced = "Here is the plan:\n```json\n{\"tasks\": [{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"analyst\"}]}\n```";
        var bare = "[{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"analyst\"}]";

        Assert.NotNull(TeamPlanReader.Read(fenced, Experts, 8).Plan);
        Assert.NotNull(TeamPlanReader.Read(bare, Experts, 8).Plan);
    }

    [Fact]
    public void PlanInAFenceIsReadWhenTheProseAroundItHasBracesToo()
    {
        var answer = "Plan {draft}:\n```json\n{\"tasks\": [{\"task_id\": \"a\", \"title\": \"A\", \"expert\": \"analyst\"}]}\n```\nThe analyst {alone} will do.";

        var (plan, error) = TeamPlanReader.Read(answer, Experts, 8);

        Assert.Null(error);
        Assert.Equal("a", Assert.Single(plan!).TaskId);
    }

    [Theory]
    [InlineData("no plan here", "the answer holds no JSON object with a \"tasks\" list")]
    [InlineData("{\"tasks\": [", "the answer holds no JSON object with a \"tasks\" list")]
    [InlineData("""{"steps": 3}""", "the answer's JSON has no \"tasks\" list")]
    [InlineData("""{"tasks": [1, 2]}""", "the plan's tasks are not objects with a task_id, a title, an expert and depends_on (a list of task ids)")]
    public void UnreadablePlanIsRefusedInWords(string answer, string reason)
    {
        var (plan, error) = TeamPlanReader.Read(answer, Experts, 8);

        Assert.Null(plan);
        Assert.Equal(reason, error);
    }

    [Theory]
    [InlineData("""{"tasks": []}""", "no tasks")]
    [InlineData("""{"tasks": [{"task_id": "a", "title": "A", "expert": "pilot"}]}""", "pilot")]
    [InlineData("""{"tasks": [{"task_id": "a", "title": "A", "expert": "writer"}, {"task_id": "a", "title": "B", "expert": "writer"}]}""", "twice")]
    [InlineData("""{"tasks": [{"task_id": "a", "title": "A", "expert": "writer", "depends_on": ["q"]}]}""", "'q'")]
    [InlineData("""{"tasks": [{"task_id": "a", "title": "A", "expert": "writer", "depends_on": ["a"]}]}""", "cycle")]
    [InlineData("""{"tasks": [{"task_id": "a", "title": "A", "expert": "writer", "depends_on": ["c"]}, {"task_id": "b", "title": "B", "expert": "writer", "depends_on": ["a"]}, {"task_id": "c", "title": "C", "expert": "writer", "depends_on": ["b"]}]}""", "a -> c -> b -> a")]
    [InlineData("""{"tasks": [{"task_id": "a", "expert": "writer"}]}""", "title")]
    [InlineData("no plan here", "JSON")]
    [InlineData("""{"steps": 3}""", "JSON")]
    public void InvalidPlanIsRefusedWithAReason(string answer, string reason)
    {
        var (plan, error) = TeamPlanReader.Read(answer, Experts, 8);

        Assert.Null(plan);
        Assert.Contains(reason, error, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanOverTheTaskLimitIsRefused()
    {
        var tasks = string.Join(", ", Enumerable.Range(1, 3).Select(i => $$"""{"task_id": "t{{i}}", "title": "T", "expert": "writer"}"""));

        var (plan, error) = TeamPlanReader.Read($$"""{"tasks": [{{tasks}}]}""", Experts, 2);

        Assert.Null(plan);
        Assert.Contains("at most 2", error, StringComparison.Ordinal);
    }
}
