using Conclave.Agents.Teams;
using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Conclave.Storage.Sqlite;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

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
        ExpertRequest request, HttpContext http, ConclaveDbContext db, ToolCatalog tools, TimeProvider time)
    {
        var validation = request.Validate(tools);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var tenant = Caller.From(http.User).TenantId;
        if (BuiltInExperts.IsBuiltIn(request.Name!) || await db.Experts.AnyAsync(e => e.TenantId == tenant && e.Name == request.Name, http.RequestAborted))
        {
            return Problems.Conflict($"An expert named '{request.Name}' exists.");
        }

        var expert = NewEntity(tenant, request.Name!, time.GetUtcNow().UtcDateTime);
        Apply(expert, request, expert.CreatedAt);
        db.Experts.Add(expert);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Created($"/api/v1/experts/{expert.Name}", ToResponse(expert));
    }

    private static async Task<Results<Ok<ExpertResponse>, ValidationProblem, ProblemHttpResult>> UpsertAsync(
        string name, ExpertRequest request, HttpContext http, ConclaveDbContext db, ToolCatalog tools, TimeProvider time)
    {
        if (Validation.NameInBodyMatchesPath(request.Name, name) is { IsValid: false } mismatch)
        {
            return TypedResults.ValidationProblem(mismatch.Errors);
        }

        request = request with { Name = name };
        var validation = request.Validate(tools);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        if (BuiltInExperts.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in expert and cannot be changed; add one under another name.");
        }

        var tenant = Caller.From(http.User).TenantId;
        var now = time.GetUtcNow().UtcDateTime;
        var expert = await db.Experts.FirstOrDefaultAsync(e => e.TenantId == tenant && e.Name == name, http.RequestAborted);
        if (expert is null)
        {
            expert = NewEntity(tenant, name, now);
            db.Experts.Add(expert);
        }

        Apply(expert, request, now);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(ToResponse(expert));
    }

    private static async Task<Ok<List<ExpertResponse>>> ListAsync(HttpContext http, ConclaveDbContext db)
    {
        var tenant = Caller.From(http.User).TenantId;
        var own = await db.Experts.AsNoTracking().Where(e => e.TenantId == tenant).OrderBy(e => e.Name).ToListAsync(http.RequestAborted);
        return TypedResults.Ok(BuiltInExperts.All.Select(ToResponse).Concat(own.Select(ToResponse)).ToList());
    }

    private static async Task<Results<Ok<ExpertResponse>, ProblemHttpResult>> GetAsync(string name, HttpContext http, ConclaveDbContext db)
    {
        if (BuiltInExperts.All.FirstOrDefault(e => e.Name == name) is { } builtIn)
        {
            return TypedResults.Ok(ToResponse(builtIn));
        }

        var tenant = Caller.From(http.User).TenantId;
        var expert = await db.Experts.AsNoTracking().FirstOrDefaultAsync(e => e.TenantId == tenant && e.Name == name, http.RequestAborted);
        return expert is null ? NotFound(name) : TypedResults.Ok(ToResponse(expert));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, ConclaveDbContext db)
    {
        if (BuiltInExperts.IsBuiltIn(name))
        {
            return Problems.Conflict($"'{name}' is a built-in expert and cannot be deleted.");
        }

        var tenant = Caller.From(http.User).TenantId;
        if (await db.Experts.FindAsync([tenant, name], http.RequestAborted) is not { } found)
        {
            return NotFound(name);
        }

        db.Experts.Remove(found);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"There is no expert named '{name}'.");

    private static ExpertEntity NewEntity(string tenant, string name, DateTime now) =>
        new() { TenantId = tenant, Name = name, Role = string.Empty, Instructions = string.Empty, CreatedAt = now };

    private static void Apply(ExpertEntity expert, ExpertRequest request, DateTime now)
    {
        expert.Role = request.Role!.Trim();
        expert.Instructions = request.Instructions!;
        expert.Tools = request.Tools;
        expert.Model = request.Model;
        expert.UpdatedAt = now;
    }

    private static ExpertResponse ToResponse(Expert e) => new(e.Name, e.Role, e.Instructions, e.Tools?.ToList(), e.Model, true, null, null);

    private static ExpertResponse ToResponse(ExpertEntity e) => new(e.Name, e.Role, e.Instructions, e.Tools, e.Model, false, e.CreatedAt, e.UpdatedAt);
}
