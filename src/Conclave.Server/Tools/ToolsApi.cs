using System.Text.Json;
using Conclave.Agents.Tools;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server.Tools;

/// <summary>A tool as clients see it.</summary>
internal sealed record ToolResponse(string Name, string Description, bool RequiresConfirmation, JsonElement Parameters);

/// <summary><c>/api/v1/tools</c>: the tools agents may call.</summary>
internal static class ToolsApi
{
    public static RouteHandlerBuilder MapToolsApi(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/tools", List)
            .WithTags("Tools")
            .WithSummary("Lists the built-in tools with their parameter schemas.")
            .RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);

    private static Ok<List<ToolResponse>> List(ToolCatalog tools) =>
        TypedResults.Ok(tools.All.Select(t => new ToolResponse(t.Name, t.Function.Description, t.RequiresConfirmation, t.Function.JsonSchema)).ToList());
}
