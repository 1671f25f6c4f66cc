using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

/// <summary>A user who answers every question with the same reply and remembers what was asked.</summary>
internal sealed class ScriptedHuman(string reply = "yes") : IHumanChannel
{
    public List<(string Question, IReadOnlyList<string>? Options)> Questions { get; } = [];

    public Task<string> AskAsync(string question, IReadOnlyList<string>? options, CancellationToken cancellationToken = default)
    {
        Questions.Add((question, options));
        return Task.FromResult(reply);
    }
}
