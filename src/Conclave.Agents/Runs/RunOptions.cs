using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Runs;

/// <summary>Settings of the agent loop (<c>Conclave:Agent</c>).</summary>
public sealed class AgentOptions
{
    /// <summary>The system prompt of a run no skill shapes.</summary>
    [Required(AllowEmptyStrings = false)]
    public string SystemPrompt { get; set; } =
        "You are Conclave, a helpful assistant. Use the tools you are given when they help, and answer concisely.";

    /// <summary>The most tool calls one run may make; past it the run ends with <c>tool_error</c>.</summary>
    [Range(1, 1000)]
    public int MaxSteps { get; set; } = 16;

    /// <summary>
    /// The most characters one <c>token</c> or <c>thinking</c> delta carries when the model had several pieces of text
    /// ready one after another (a fast model, or a busy server that read several at once): they go out as one delta, one
    /// event to store and send instead of one a piece. Nothing waits for a piece to come, and a piece is never split (a
    /// longer one goes out alone). 0 sends each piece as the model gave it.
    /// </summary>
    [Range(0, 1_048_576)]
    public int MaxMergedDeltaChars { get; set; } = 1024;

    /// <summary>The most earlier messages of the session sent to the model with a new message.</summary>
    [Range(0, 10_000)]
    public int MaxHistoryMessages { get; set; } = 50;

    /// <summary>
    /// The most runs reading what they start from at once (skills and history, fitting the prompt); others wait their
    /// turn. A burst of new runs then takes its share of the processors instead of all of them, and the runs already
    /// streaming keep their pace. (Recording the runs is not in turns: the storage commits the starts that arrive
    /// together as one write.) Default: the number of processors; the server raises it on PostgreSQL, whose reads wait
    /// on the network more than on the processors.
    /// </summary>
    [Range(1, 1024)]
    public int MaxConcurrentRunSetup { get; set; } = Environment.ProcessorCount;

    /// <summary>Where session workspaces live; each session gets a folder named by its id.</summary>
    [Required(AllowEmptyStrings = false)]
    public string WorkspacesPath { get; set; } = Path.Combine("data", "workspaces");
}

/// <summary>Settings of tool confirmations (<c>Conclave:Confirmation</c>).</summary>
public sealed class ConfirmationOptions
{
    /// <summary>How long a <c>confirmation_request</c> waits before it counts as denied; 0 waits until it is answered or the run stops.</summary>
    [Range(0, 30 * 24 * 3600)]
    public int TimeoutSeconds { get; set; } = 300;

    /// <summary>The timeout as a span: infinite when off.</summary>
    public TimeSpan Timeout => WaitTimeout.Of(TimeoutSeconds);
}

/// <summary>Settings of questions to the user (<c>Conclave:AskHuman</c>).</summary>
public sealed class AskHumanOptions
{
    /// <summary>How long an <c>ask_human</c> waits for a reply before the run ends with <c>timeout</c>; 0 waits until it is answered or the run stops.</summary>
    [Range(0, 30 * 24 * 3600)]
    public int TimeoutSeconds { get; set; } = 900;

    /// <summary>The timeout as a span: infinite when off.</summary>
    public TimeSpan Timeout => WaitTimeout.Of(TimeoutSeconds);
}

/// <summary>How long a run's waits on people last (<see cref="System.Threading.Timeout.InfiniteTimeSpan"/>: until answered).</summary>
/// <param name="Confirmation">A <c>confirmation_request</c>'s, before it counts as denied.</param>
/// <param name="AskHuman">An <c>ask_human</c>'s, before the question ends with <c>timeout</c>.</param>
public sealed record WaitTimeouts(TimeSpan Confirmation, TimeSpan AskHuman)
{
    /// <summary>These timeouts, with those the skill sets in their place.</summary>
    public WaitTimeouts For(Skills.Skill skill)
    {
        ArgumentNullException.ThrowIfNull(skill);
        return new(
            skill.ConfirmationTimeoutSeconds is { } confirmation ? WaitTimeout.Of(confirmation) : Confirmation,
            skill.AskHumanTimeoutSeconds is { } ask ? WaitTimeout.Of(ask) : AskHuman);
    }
}

/// <summary>How a wait's timeout setting reads: seconds, or 0 for none.</summary>
internal static class WaitTimeout
{
    public static TimeSpan Of(int seconds) => seconds == 0 ? System.Threading.Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(seconds);
}

/// <summary>What a shutdown does to the runs in progress (<c>Conclave:Shutdown</c>).</summary>
public sealed class ShutdownOptions
{
    /// <summary>
    /// How long runs that are streaming may go on to their own end once the server is asked to stop (SIGTERM); runs
    /// still going then, and runs waiting on a person, end with <c>error internal</c> (retryable). 0 stops them at once.
    /// </summary>
    [Range(0, 3600)]
    public int DrainSeconds { get; set; } = 10;

    /// <summary>The drain as a span.</summary>
    public TimeSpan Drain => TimeSpan.FromSeconds(DrainSeconds);
}
