using System.Text.Json;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>
/// An MCP server's tool as the runtime's function: named <c>server.tool</c>, described and typed by the server, and
/// called over the tenant's connection open at the time of the call, with the run's user at hand for the server's questions.
/// </summary>
internal sealed class McpToolFunction(string server, Tool tool, Func<Task<McpConnection>> connection) : AIFunction
{
    private readonly JsonElement _schema = McpResults.Schema(tool.InputSchema);

    public override string Name { get; } = SourcedToolName.Of(server, tool.Name);

    public override string Description => tool.Description ?? tool.Title ?? tool.Name;

    public override JsonElement JsonSchema => _schema;

    protected override async ValueTask<object?> InvokeCoreAsync(AIFunctionArguments arguments, CancellationToken cancellationToken)
    {
        var context = ToolContext.From(arguments);
        var values = new Dictionary<string, object?>(arguments, StringComparer.Ordinal);
        return await (await connection()).CallAsync(tool.Name, values, context.HumanInCall, cancellationToken);
    }
}
