using System.Text.Json;
using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server.Tools;

/// <summary>A tool as clients see it.</summary>
/// <param name="Name">The name skills and experts use, and events show: <c>server.tool</c> for an MCP server's.</param>
/// <param name="Description">What the tool does.</param>
/// <param name="RequiresConfirmation">Whether a call waits for a person's approval.</param>
/// <param name="Parameters">The JSON schema of its arguments.</param>
/// <param name="Server">The MCP server it belongs to; null for a built-in tool.</param>
internal sealed record ToolResponse(string Name, string Description, bool RequiresConfirmation, JsonElement Parameters, string? Server);

/// <summary><c>/api/v1/tools</c>: the tools agents may call.</summary>
internal static class ToolsApi
{
    public static RouteHandlerBuilder MapToolsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/tools", ListAsync)
            .WithTags("Tools")
            .WithSummary("Lists the tools the caller's agents may use: the built-in ones, then those of its MCP servers that can be reached now.")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

    private static async Task<Ok<List<ToolResponse>>> ListAsync(HttpContext http, ToolCatalog tools)
    {
        var all = await tools.ListAsync(Caller.From(http.User).TenantId, http.RequestAborted);
        return TypedResults.Ok(all.Select(t => new ToolResponse(
            t.Name, t.Function.Description, t.RequiresConfirmation, t.Function.JsonSchema, SourcedToolName.ServerOf(t.Name))).ToList());
    }

    /// <summary>
    /// Which of <paramref name="names"/> a skill or an expert of the tenant may name: built-in tools, and the tools of its
    /// MCP servers (by the server's name alone, so that a server that is down does not stop a skill from being saved).
    /// </summary>
    public static async Task<IReadOnlySet<string>> KnownAsync(ToolCatalog tools, string tenantId, IEnumerable<string>? names, CancellationToken cancellationToken)
    {
        var known = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names ?? [])
        {
            if (await tools.IsKnownAsync(tenantId, name, cancellationToken))
            {
                known.Add(name);
            }
        }

        return known;
    }
}
