using Conclave.Agents.Skills;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Runs;

public sealed class RunSetupTurnTests
{
    [Fact]
    public async Task RunsTakeTurnsForTheirSetupAndAllOfThemFinish()
    {
        var skills = new HeldSkills();
        await using var server = await ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:Agent:MaxConcurrentRunSetup"] = "1" },
            services: s => s.AddSingleton<ISkillCatalog>(skills));
        await using var first = await server.ConnectAsync(await server.CreateSessionAsync());
        await using var second = await server.ConnectAsync(await server.CreateSessionAsync());

        await first.SendAsync(new { type = "message", content = "stream 2 words" });
        await skills.Entered(1).WaitAsync(TimeSpan.FromSeconds(5));
        await second.SendAsync(new { type = "message", content = "stream 2 words" });
        await Task.Delay(300);
        Assert.Equal(1, skills.Count);

        skills.Open.SetResult();
        var answers = await Task.WhenAll(first.ReceiveTypeAsync("final_answer"), second.ReceiveTypeAsync("final_answer"));

        Assert.Equal(2, skills.Count);
        Assert.All(answers, a => Assert.Equal("word1 word2", a.Str("content")));
    }

    /// <summary>A tenant with no skills, whose every listing waits until the test opens it.</summary>
    private sealed class HeldSkills : ISkillCatalog
    {
        private readonly TaskCompletionSource[] _entered = [new(TaskCreationOptions.RunContinuationsAsynchronously), new(TaskCreationOptions.RunContinuationsAsynchronously)];
        private int _count;

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public int Count => Volatile.Read(ref _count);

        public Task Entered(int count) => _entered[count - 1].Task;

        public async Task<IReadOnlyList<Skill>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
        {
            var count = Interlocked.Increment(ref _count);
            _entered[Math.Min(count, 2) - 1].TrySetResult();
            await Open.Task.WaitAsync(cancellationToken);
            return [];
        }
    }
}
