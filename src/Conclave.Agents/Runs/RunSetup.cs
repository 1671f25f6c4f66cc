using Conclave.Agents.Events;
using Conclave.Agents.Models;
using Conclave.Agents.Skills;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Runs;

/// <summary>What a run works from: the skill that matched, and either a team's goal or the agent's prompt.</summary>
internal sealed record RunPlan(SkillMatch? Match, string? TeamGoal, List<ChatMessage> Messages);

/// <summary>
/// A run's start-up storage work: recording the run with its message (the store commits the starts that arrive together
/// as one write), then, in turns (<see cref="AgentOptions.MaxConcurrentRunSetup"/> at once) so that a burst of new runs
/// takes its share of the processors and the runs already streaming keep their pace, reading skills and history into
/// its <see cref="RunPlan"/>.
/// </summary>
internal sealed class RunSetup(
    ISkillCatalog skills,
    IRunStore runs,
    IEventStore events,
    EventWriter writer,
    AgentOptions agent,
    ContextOptions context,
    TokenCounter tokens,
    InstanceIdentity instance,
    TimeProvider time)
{
    // How long a new run waits for another instance's run that is finishing up (its terminal event stored, its record
    // about to end): 200 tries, 50 ms apart. Only a finishing run is waited for, so the wait can be generous: on a busy
    // machine the other instance took more than the 2 s this once was between storing the terminal event and ending the record.
    private const int FinishingAttempts = 200;
    private static readonly TimeSpan FinishingRetryDelay = TimeSpan.FromMilliseconds(50);

    private readonly SemaphoreSlim _turns = new(agent.MaxConcurrentRunSetup, agent.MaxConcurrentRunSetup);

    /// <summary>The tenant's skill a client forces by name, or null when it has none of that name.</summary>
    public async Task<Skill?> FindSkillAsync(string tenantId, string name, CancellationToken cancellationToken) =>
        (await skills.ListAsync(tenantId, cancellationToken)).FirstOrDefault(s => string.Equals(s.Name, name, StringComparison.Ordinal));

    /// <summary>
    /// Records the run with the user's message, then gives it its event log. Throws <see cref="RunInProgressException"/>
    /// when another process's run holds the session, and <see cref="OperationCanceledException"/> when the asker has
    /// gone away already (nothing recorded).
    /// </summary>
    public async Task RecordAsync(Run run, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        await BeginAsync(run);

        // Read once the run holds the session: a run of another process before it has stored its last event by now.
        var lastEventId = await events.GetLastEventIdAsync(run.SessionId, CancellationToken.None);
        run.Attach(new SessionEventLog(run.SessionId, lastEventId, writer, time));
    }

    /// <summary>
    /// Records the run as running. A run of another instance that holds the session but whose terminal event is stored
    /// is only finishing up (its record ends just after): the new run waits for it, a moment, as it would for one of
    /// this process.
    /// </summary>
    private async Task BeginAsync(Run run)
    {
        var record = new RunRecord(run.Id, run.SessionId, run.Request.TenantId, run.Request.MessageId, time.GetUtcNow().UtcDateTime, instance.Id);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await runs.BeginRunAsync(record, run.Request.Content, CancellationToken.None);
                return;
            }
            catch (RunInProgressException) when (attempt < FinishingAttempts)
            {
                if (!await HolderIsFinishingAsync(run.SessionId))
                {
                    throw;
                }
            }

            await Task.Delay(FinishingRetryDelay, time);
        }
    }

    private async Task<bool> HolderIsFinishingAsync(string sessionId)
    {
        if (await runs.FindOpenRunAsync(sessionId, CancellationToken.None) is not { } holder)
        {
            return true;
        }

        return await events.ReadNewestAsync(sessionId, CancellationToken.None) is { IsTerminal: true } newest && newest.RunId == holder.RunId;
    }

    /// <summary>
    /// Gives a run a previous process left waiting its event log and its open requests again; returns the answer each
    /// will get, by request id. A request whose announcement the writer had not stored yet is stored now, as it was sent.
    /// Null when the run cannot go on from its wait: an announcement is missing from the log, or, for a single agent
    /// (<paramref name="alone"/>), the session moved on past it.
    /// </summary>
    public async Task<IReadOnlyDictionary<string, Task<HumanAnswer>>?> RestoreWaitAsync(Run run, RunWait wait, bool alone, CancellationToken cancellationToken)
    {
        var announcements = wait.Requests
            .Select(r => (Request: r, Event: r.AnnouncementEvent(run.SessionId, run.Id)))
            .OrderBy(a => a.Event.EventId)
            .ToList();
        var lastEventId = await events.GetLastEventIdAsync(run.SessionId, cancellationToken);
        var unstored = announcements.Where(a => a.Event.EventId > lastEventId).Select(a => a.Event).ToList();
        if (unstored.Where((e, i) => e.EventId != lastEventId + 1 + i).Any())
        {
            return null;
        }

        if (unstored.Count > 0)
        {
            // The requests were stored with the wait before they went out, but the process died before their events were.
            await events.AppendAsync(unstored, cancellationToken);
            lastEventId = unstored[^1].EventId;
        }

        if (announcements.Count == 0 || (alone && lastEventId != announcements[^1].Event.EventId))
        {
            return null;
        }

        run.Attach(new SessionEventLog(run.SessionId, lastEventId, writer, time));
        run.HasDurableWait = true;
        return announcements.ToDictionary(
            a => a.Request.RequestId, a => run.Pending.Restore(a.Request.RequestId, a.Request.Kind, a.Event), StringComparer.Ordinal);
    }

    /// <summary>
    /// In its turn: the skill that matches, then the team's goal for a team run, or else the prompt (system prompt,
    /// the history that fits, the message).
    /// </summary>
    public async Task<RunPlan> PrepareAsync(Run run, Skill? forced, CancellationToken cancellationToken)
    {
        var request = run.Request;
        await _turns.WaitAsync(cancellationToken);
        try
        {
            var match = forced is not null
                ? new SkillMatch(forced, 1.0, [])
                : SkillMatcher.Match(request.Content, await skills.ListAsync(request.TenantId, cancellationToken));
            if (TeamGoal(request, match?.Skill) is { } goal)
            {
                return new RunPlan(match, goal, []);
            }

            var messages = new List<ChatMessage> { new(ChatRole.System, match?.Skill.Instructions ?? agent.SystemPrompt) };
            foreach (var message in await runs.LoadHistoryAsync(run.SessionId, agent.MaxHistoryMessages + 1, cancellationToken))
            {
                messages.Add(new ChatMessage(message.Role == HistoryMessage.User ? ChatRole.User : ChatRole.Assistant, message.Content));
            }

            // The run's own user message is already stored; make sure it is the last one the model sees.
            if (messages[^1].Role != ChatRole.User || messages[^1].Text != request.Content)
            {
                messages.Add(new ChatMessage(ChatRole.User, request.Content));
            }

            ContextWindow.Fit(messages, context.MaxContextTokens, tokens);
            return new RunPlan(match, null, messages);
        }
        finally
        {
            _turns.Release();
        }
    }

    /// <summary>The goal of a team run, or null for a single-agent run.</summary>
    private static string? TeamGoal(RunRequest request, Skill? skill)
    {
        const string prefix = "/team ";
        var content = request.Content.Trim();
        var prefixed = content.StartsWith(prefix, StringComparison.OrdinalIgnoreCase);
        var goal = prefixed ? content[prefix.Length..].Trim() : content;
        return request.Mode switch
        {
            "single" => null,
            "team" => goal,
            _ when prefixed || string.Equals(skill?.Mode, "team", StringComparison.Ordinal) => goal,
            _ => null,
        };
    }
}
