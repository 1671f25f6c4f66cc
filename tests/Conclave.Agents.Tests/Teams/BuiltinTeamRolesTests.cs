using Conclave.Agents.Models;
using Conclave.Agents.Teams;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Teams;

public sealed class BuiltinTeamRolesTests
{
    private readonly BuiltinChatClient _model = new(Options.Create(new BuiltinModelOptions { TokenDelayMs = 0 }), TimeProvider.System);

    [Fact]
    public async Task AsPlannerItMakesResearchAndAnalysisThenWriting()
    {
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.Planner(BuiltInExperts.All, 8, null)),
            new(ChatRole.User, "compare two databases"),
        };

        var response = await _model.GetResponseAsync(messages);
        var (plan, error) = TeamPlanReader.Read(response.Text, BuiltInExperts.All.Select(e => e.Name).ToList(), 8);

        Assert.Null(error);
        Assert.NotNull(plan);
        Assert.Equal([("research", "researcher"), ("analysis", "analyst"), ("writing", "writer")], plan.Select(t => (t.TaskId, t.Expert)));
        Assert.Empty(plan[0].Dependencies);
        Assert.Empty(plan[1].Dependencies);
        Assert.Equal(["research", "analysis"], plan[2].Dependencies);
    }

    [Fact]
    public async Task AsAnExpertItAppliesTheRulesToTheGoalNotToItsTask()
    {
        var task = new PlanTask("research", "Research: stream 4 words", "researcher", null);
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.ExpertSystem(BuiltInExperts.All[0])),
            new(ChatRole.User, TeamPrompts.ExpertTask("stream 4 words", task, [])),
        };

        var response = await _model.GetResponseAsync(messages);

        Assert.Equal("word1 word2 word3 word4", response.Text);
    }

    [Fact]
    public async Task AsAnExpertItDoesNotAskTheUserOrRunNamedTools()
    {
        var task = new PlanTask("a", "A", "analyst", null);
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.ExpertSystem(BuiltInExperts.All[1])),
            new(ChatRole.User, TeamPrompts.ExpertTask("ask me: anything?", task, [])),
        };

        var response = await _model.GetResponseAsync(messages);

        Assert.DoesNotContain(response.Messages.SelectMany(m => m.Contents), c => c is FunctionCallContent);
        Assert.Contains("ask me: anything?", response.Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AsTheSynthesisItNamesEveryTaskAndWhatIsMissing()
    {
        var tasks = new[]
        {
            (new PlanTask("research", "R", "researcher", null), "done", "facts"),
            (new PlanTask("analysis", "A", "analyst", null), "failed: model error", string.Empty),
            (new PlanTask("writing", "W", "writer", ["research", "analysis"]), "cancelled: not done", string.Empty),
        };
        var messages = new List<ChatMessage>
        {
            new(ChatRole.System, TeamPrompts.SynthesisSystem(null)),
            new(ChatRole.User, TeamPrompts.SynthesisInput("the goal", tasks)),
        };

        var text = (await _model.GetResponseAsync(messages)).Text;

        Assert.Contains("research (researcher): done", text, StringComparison.Ordinal);
        Assert.Contains("analysis (analyst): failed", text, StringComparison.Ordinal);
        Assert.Contains("writing (writer): cancelled", text, StringComparison.Ordinal);
        Assert.Contains("2 of 3 tasks were not done", text, StringComparison.Ordinal);
    }
}
