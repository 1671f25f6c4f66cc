using System.ComponentModel;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tools;

/// <summary>The built-in tools, by name, and with the tool sources (MCP servers) the tools of a tenant's runs.</summary>
public sealed class ToolCatalog
{
    /// <summary>The name of the tool that asks the user a question.</summary>
    public const string AskHumanName = "ask_human";

    /// <summary>The name of the arithmetic tool.</summary>
    public const string CalculatorName = "calculator";

    /// <summary>The name of the tool that hands a goal to a team of experts.</summary>
    public const string ConveneTeamName = "convene_team";

    private readonly Dictionary<string, AgentTool> _byName;
    private readonly IToolSource[] _sources;

    /// <summary>Creates the catalog of the built-in tools, and of the tools <paramref name="sources"/> give a tenant.</summary>
    public ToolCatalog(FileTools files, HttpGetTool httpGet, IEnumerable<IToolSource>? sources = null)
    {
        _sources = sources?.ToArray() ?? [];
        AgentTool[] tools =
        [
            new(Create(Calculate, CalculatorName)),
            new(Create(AskHumanAsync, AskHumanName)),
            new(Create(files.ReadFileAsync, "read_file")),
            new(Create(files.ListFiles, "list_files")),
            new(Create(files.WriteFileAsync, "write_file"), RequiresConfirmation: true,
                ConfirmationReason: "write_file creates or replaces a file in the session's workspace."),
            new(Create(httpGet.GetAsync, "http_get"), RequiresConfirmation: true,
                ConfirmationReason: "http_get fetches a URL from the internet."),
            new(Create(ConveneTeamAsync, ConveneTeamName)),
        ];
        All = tools;
        _byName = tools.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Every tool, in a stable order.</summary>
    public IReadOnlyList<AgentTool> All { get; }

    /// <summary>Finds a tool by name.</summary>
    public bool TryGet(string name, out AgentTool tool) => _byName.TryGetValue(name, out tool!);

    /// <summary>The built-in tools a run may use: all of them, or those <paramref name="allowed"/> names.</summary>
    public IReadOnlyList<AgentTool> Select(IReadOnlyCollection<string>? allowed) =>
        allowed is null ? All : All.Where(t => allowed.Contains(t.Name)).ToList();

    /// <summary>
    /// The tools a run of the tenant may use: every built-in tool and every tool its sources give it, or those of them
    /// <paramref name="allowed"/> names. The sources are asked only when they may give one of the names.
    /// </summary>
    public async Task<IReadOnlyList<AgentTool>> SelectAsync(string tenantId, IReadOnlyCollection<string>? allowed, CancellationToken cancellationToken)
    {
        var builtIn = Select(allowed);
        if (_sources.Length == 0 || (allowed is not null && !allowed.Any(n => SourcedToolName.ServerOf(n) is not null)))
        {
            return builtIn;
        }

        var tools = new List<AgentTool>(builtIn);
        foreach (var source in _sources)
        {
            tools.AddRange((await source.ListAsync(tenantId, cancellationToken)).Where(t => allowed is null || allowed.Contains(t.Name)));
        }

        return tools;
    }

    /// <summary>Every tool the tenant's runs may use now: the built-in ones, then those of its sources.</summary>
    public Task<IReadOnlyList<AgentTool>> ListAsync(string tenantId, CancellationToken cancellationToken) =>
        SelectAsync(tenantId, null, cancellationToken);

    /// <summary>
    /// Whether a skill or an expert of the tenant may name <paramref name="name"/>: a built-in tool, or a namespaced one
    /// that a source may give it (a registered MCP server's, whether or not the server is up).
    /// </summary>
    public async Task<bool> IsKnownAsync(string tenantId, string name, CancellationToken cancellationToken)
    {
        if (_byName.ContainsKey(name))
        {
            return true;
        }

        if (SourcedToolName.ServerOf(name) is null)
        {
            return false;
        }

        foreach (var source in _sources)
        {
            if (await source.MayProvideAsync(tenantId, name, cancellationToken))
            {
                return true;
            }
        }

        return false;
    }

    private static AIFunction Create(Delegate method, string name) =>
        AIFunctionFactory.Create(method, new AIFunctionFactoryOptions { Name = name });

    [Description("Evaluates an arithmetic expression with + - * / % ^ and parentheses, e.g. 12*(3+4).")]
    private static string Calculate([Description("The arithmetic expression.")] string expression) =>
        ArithmeticEvaluator.Format(ArithmeticEvaluator.Evaluate(expression));

    [Description("Hands a goal that needs several kinds of expertise to a team of experts (a planner, experts working in parallel, " +
        "and a synthesis) and returns the team's combined answer. Use it for large, many-sided goals.")]
    private static Task<string> ConveneTeamAsync(
        [Description("The goal for the team, stated fully.")] string goal,
        AIFunctionArguments arguments,
        CancellationToken cancellationToken) =>
        ToolContext.From(arguments).ConveneTeam is { } convene
            ? convene(goal, cancellationToken)
            : throw new ToolException("A team cannot be convened from here.");

    [Description("Asks the user a question and waits for the answer. Use it when you need information only the user has.")]
    private static Task<string> AskHumanAsync(
        [Description("The question for the user.")] string question,
        AIFunctionArguments arguments,
        CancellationToken cancellationToken,
        [Description("Suggested answers, if any.")] string[]? options = null) =>
        ToolContext.From(arguments).Human.AskAsync(question, options, cancellationToken);
}
