using Conclave.Agents.Tools;
using Conclave.Mcp;
using Conclave.Server.Auth;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Mcp;

/// <summary>
/// <c>/api/v1/mcp-servers</c>: the caller's MCP servers, whose tools its agents use as <c>server.tool</c>. The admin's
/// are the operator's: every tenant's runs use them too. Only the admin registers <c>stdio</c> servers, which run
/// commands on this host; an <c>http</c> server must be at a public address unless <c>Conclave:Mcp:AllowedHosts</c>
/// allows its host. Secrets are stored encrypted and never returned.
/// </summary>
internal static class McpServersApi
{
    public static RouteGroupBuilder MapMcpServersApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/mcp-servers").WithTags("MCP servers").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/", CreateAsync).WithSummary("Registers an MCP server; 409 if the name exists.")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden).ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{name}", UpsertAsync).WithSummary("Registers an MCP server or replaces its registration (its secrets too: give them again).")
            .ProducesValidationProblem().ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapGet("/", ListAsync).WithSummary("Lists the caller's MCP servers by name, without their secrets.");
        group.MapGet("/{name}", GetAsync).WithSummary("Gets an MCP server's registration, without its secrets.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Removes an MCP server; its connections close.").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Created<McpServerResponse>, ProblemHttpResult>> CreateAsync(
        McpServerRequest request, HttpContext http, ITenantItemStore<McpServerRegistration> servers, McpServerChanges changes, TimeProvider time)
    {
        var caller = Caller.From(http.User);
        if (await changes.RefusalAsync(request, caller, http.RequestAborted) is { } refusal)
        {
            return refusal;
        }

        var stored = await servers.AddAsync(caller.TenantId, changes.ToRegistration(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        if (stored is null)
        {
            return Problems.Conflict($"An MCP server named '{request.Name}' exists; PUT /api/v1/mcp-servers/{request.Name} replaces it.");
        }

        await changes.ChangedAsync(caller.TenantId, stored.Item.Name);
        return TypedResults.Created($"/api/v1/mcp-servers/{request.Name}", McpServerResponse.From(stored));
    }

    private static async Task<Results<Ok<McpServerResponse>, ValidationProblem, ProblemHttpResult>> UpsertAsync(
        string name, McpServerRequest request, HttpContext http, ITenantItemStore<McpServerRegistration> servers, McpServerChanges changes, TimeProvider time)
    {
        if (Validation.NameInBodyMatchesPath(request.Name, name) is { IsValid: false } mismatch)
        {
            return TypedResults.ValidationProblem(mismatch.Errors);
        }

        request = request with { Name = name };
        var caller = Caller.From(http.User);
        if (await changes.RefusalAsync(request, caller, http.RequestAborted) is { } refusal)
        {
            return refusal;
        }

        var stored = await servers.PutAsync(caller.TenantId, changes.ToRegistration(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        await changes.ChangedAsync(caller.TenantId, name);
        return TypedResults.Ok(McpServerResponse.From(stored));
    }

    private static async Task<Ok<List<McpServerResponse>>> ListAsync(HttpContext http, ITenantItemStore<McpServerRegistration> servers) =>
        TypedResults.Ok((await servers.ListAsync(Caller.From(http.User).TenantId, http.RequestAborted)).Select(McpServerResponse.From).ToList());

    private static async Task<Results<Ok<McpServerResponse>, ProblemHttpResult>> GetAsync(
        string name, HttpContext http, ITenantItemStore<McpServerRegistration> servers) =>
        await servers.FindAsync(Caller.From(http.User).TenantId, name, http.RequestAborted) is { } stored
            ? TypedResults.Ok(McpServerResponse.From(stored))
            : NotFound(name);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string name, HttpContext http, ITenantItemStore<McpServerRegistration> servers, McpServerChanges changes)
    {
        var tenantId = Caller.From(http.User).TenantId;
        if (!await servers.DeleteAsync(tenantId, name, http.RequestAborted))
        {
            return NotFound(name);
        }

        await changes.ChangedAsync(tenantId, name);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"There is no MCP server named '{name}'.");
}

/// <summary>What a registration goes through before it is stored, and what follows a change of one.</summary>
internal sealed class McpServerChanges(McpSecretProtector secrets, McpRegistrations registrations, McpConnections connections, IOptions<McpOptions> options)
{
    /// <summary>Why the caller may not register the server as asked: a 400 naming the fields at fault, or a 403; null when it may.</summary>
    public async Task<ProblemHttpResult?> RefusalAsync(McpServerRequest request, Caller caller, CancellationToken cancellationToken)
    {
        var validation = request.Validate();
        if (!validation.IsValid)
        {
            return Invalid(validation.Errors);
        }

        if (request.Transport == McpServerRegistration.Stdio && !caller.IsAdmin)
        {
            return Problems.Forbidden("Only the admin may register stdio servers: they run commands on the server's host. Register an http server.");
        }

        if (request.Transport == McpServerRegistration.Http)
        {
            var url = new Uri(request.Url!);
            try
            {
                await PublicAddresses.CheckAsync(url.IdnHost, url.Port, options.Value.AllowedHosts, McpTransports.AddressRule, cancellationToken);
            }
            catch (Exception ex) when (ex is ToolException or System.Net.Sockets.SocketException)
            {
                return Invalid(new Dictionary<string, string[]> { ["url"] = [ex.Message] });
            }
        }

        return null;
    }

    public McpServerRegistration ToRegistration(McpServerRequest request) => request.ToRegistration(secrets);

    private static ProblemHttpResult Invalid(IDictionary<string, string[]> errors) =>
        TypedResults.Problem(new HttpValidationProblemDetails(errors) { Status = StatusCodes.Status400BadRequest });

    /// <summary>After a registration changed or went: this instance reads the list again and closes what it had open.</summary>
    public async Task ChangedAsync(string tenantId, string name)
    {
        registrations.Invalidate(tenantId);
        await connections.CloseAsync(tenantId, name);
    }
}
