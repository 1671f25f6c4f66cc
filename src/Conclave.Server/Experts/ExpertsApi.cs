using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Conclave.Server.Tools;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server.Experts;

/// <summary><c>/api/v1/experts</c>: the experts a tenant's teams can call on, built-in and its own.</summary>
internal static class ExpertsApi
{
    public static RouteGroupBuilder MapExpertsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/experts").WithTags("Experts").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/", CreateAsync).WithSummary("Adds an expert; 409 if the name exists or is built in.").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{name}", UpsertAsync).WithSummary("Creates or replaces one of the caller's experts; 409 for a built-in name.").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("/", ListAsync).WithSummary("Lists the built-in experts, then the caller's own by name.");
        group.MapGet("/{name}", GetAsync).WithSummary("Gets an expert.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes one of the caller's experts; built-in ones cannot be deleted (409).")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Created<ExpertResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        ExpertRequest request, HttpContext http, ITenantItemStore<Expert> experts, ToolCatalog tools, TimeProvider time)
    {
        var validation = request.Validate(await ToolsApi.KnownAsync(tools, Caller.From(http.User).TenantId, request.Tools, http.RequestAborted));
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var stored = BuiltInExperts.IsBuiltIn(request.Name!)
            ? null
            : await experts.AddAsync(Caller.From(http.User).TenantId, ToExpert(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        return stored is null
            ? Problems.Conflict($"An expert named '{request.Name}' exists.")
            : TypedResults.Created($"/api/v1/experts/{request.Name}", ToResponse(stored));
    }

    private static async Task<Results<Ok<ExpertResponse>, ValidationProblem, ProblemHttpResult>> UpsertAsync(
        string name, ExpertRequest request, HttpContext http, ITenantItemStore<Expert> experts, ToolCatalog tools, TimeProvider time)
    {
        if (Validation.NameInBodyMatchesPath(request.Name, name) is { IsValid: false } mismatch)
        {
            return TypedResults.ValidationProblem(mismatch.Errors);
        }

        request = request with { Name = name };
        var validation = request.Validate(await ToolsApi.KnownAsync(tools, Caller.From(http.User).TenantId, request.Tools, http.RequestAborted));
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        if (BuiltInExperts.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in expert and cannot be changed; add one under another name.");
        }

        var stored = await experts.PutAsync(Caller.From(http.User).TenantId, ToExpert(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        return TypedResults.Ok(ToResponse(stored));
    }

    private static async Task<Ok<List<ExpertResponse>>> ListAsync(HttpContext http, ITenantItemStore<Expert> experts)
    {
        var own = await experts.ListAsync(Caller.From(http.User).TenantId, http.RequestAborted);
        return TypedResults.Ok(BuiltInExperts.All.Select(ToResponse).Concat(own.Select(ToResponse)).ToList());
    }

    private static async Task<Results<Ok<ExpertResponse>, ProblemHttpResult>> GetAsync(string name, HttpContext http, ITenantItemStore<Expert> experts)
    {
        if (BuiltInExperts.All.FirstOrDefault(e => e.Name == name) is { } builtIn)
        {
            return TypedResults.Ok(ToResponse(builtIn));
        }

        var stored = await experts.FindAsync(Caller.From(http.User).TenantId, name, http.RequestAborted);
        return stored is null ? NotFound(name) : TypedResults.Ok(ToResponse(stored));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, ITenantItemStore<Expert> experts)
    {
        if (BuiltInExperts.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in expert and cannot be deleted.");
        }

        return await experts.DeleteAsync(Caller.From(http.User).TenantId, name, http.RequestAborted) ? TypedResults.NoContent() : NotFound(name);
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"There is no expert named '{name}'.");

    /// <summary>The expert a valid request describes.</summary>
    private static Expert ToExpert(ExpertRequest request) => new(request.Name!, request.Role!.Trim(), request.Instructions!, request.Tools, request.Model);

    private static ExpertResponse ToResponse(Expert e) => new(e.Name, e.Role, e.Instructions, e.Tools?.ToList(), e.Model, true, null, null);

    private static ExpertResponse ToResponse(Stored<Expert> stored)
    {
        var e = stored.Item;
        return new(e.Name, e.Role, e.Instructions, e.Tools?.ToList(), e.Model, false, stored.CreatedAt, stored.UpdatedAt);
    }
}
