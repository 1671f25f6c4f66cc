using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Conclave.Storage.Sqlite;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Skills;

/// <summary><c>/api/v1/skills</c>: the caller's skills.</summary>
internal static class SkillsApi
{
    public static RouteGroupBuilder MapSkillsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/skills").WithTags("Skills").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapPost("/", CreateAsync).WithSummary("Registers a skill; 409 if the name exists.").ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPut("/{name}", UpsertAsync).WithSummary("Creates or replaces a skill.");
        group.MapGet("/", ListAsync).WithSummary("Lists the caller's skills by name.");
        group.MapGet("/{name}", GetAsync).WithSummary("Gets a skill.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("/{name}", DeleteAsync).WithSummary("Deletes a skill.").ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Results<Created<SkillResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        SkillRequest request, HttpContext http, ConclaveDbContext db, ToolCatalog tools, TimeProvider time)
    {
        var validation = request.Validate(tools);
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var tenant = Caller.From(http.User).TenantId;
        if (await db.Skills.AnyAsync(s => s.TenantId == tenant && s.Name == request.Name, http.RequestAborted))
        {
            return Problems.Conflict($"A skill named '{request.Name}' exists; PUT /api/v1/skills/{request.Name} replaces it.");
        }

        var now = time.GetUtcNow().UtcDateTime;
        var skill = new SkillEntity
        {
            TenantId = tenant,
            Name = request.Name!,
            Description = string.Empty,
            Instructions = string.Empty,
            CreatedAt = now,
        };
        Apply(skill, request, now);
        db.Skills.Add(skill);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Created($"/api/v1/skills/{skill.Name}", ToResponse(skill));
    }

    private static async Task<Results<Ok<SkillResponse>, ValidationProblem>> UpsertAsync(
        string name, SkillRequest request, HttpContext http, ConclaveDbContext db, ToolCatalog tools, TimeProvider time)
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

        var tenant = Caller.From(http.User).TenantId;
        var now = time.GetUtcNow().UtcDateTime;
        var skill = await db.Skills.FirstOrDefaultAsync(s => s.TenantId == tenant && s.Name == name, http.RequestAborted);
        if (skill is null)
        {
            skill = new SkillEntity { TenantId = tenant, Name = name, Description = string.Empty, Instructions = string.Empty, CreatedAt = now };
            db.Skills.Add(skill);
        }

        Apply(skill, request, now);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.Ok(ToResponse(skill));
    }

    private static async Task<Ok<List<SkillResponse>>> ListAsync(HttpContext http, ConclaveDbContext db)
    {
        var tenant = Caller.From(http.User).TenantId;
        var skills = await db.Skills.AsNoTracking().Where(s => s.TenantId == tenant).OrderBy(s => s.Name).ToListAsync(http.RequestAborted);
        return TypedResults.Ok(skills.ConvertAll(ToResponse));
    }

    private static async Task<Results<Ok<SkillResponse>, ProblemHttpResult>> GetAsync(string name, HttpContext http, ConclaveDbContext db)
    {
        var tenant = Caller.From(http.User).TenantId;
        var skill = await db.Skills.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenant && s.Name == name, http.RequestAborted);
        return skill is null ? NotFound(name) : TypedResults.Ok(ToResponse(skill));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, ConclaveDbContext db)
    {
        var tenant = Caller.From(http.User).TenantId;
        if (await db.Skills.FindAsync([tenant, name], http.RequestAborted) is not { } found)
        {
            return NotFound(name);
        }

        db.Skills.Remove(found);
        await db.SaveChangesAsync(http.RequestAborted);
        return TypedResults.NoContent();
    }

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"There is no skill named '{name}'.");

    private static void Apply(SkillEntity skill, SkillRequest request, DateTime now)
    {
        skill.Description = request.Description ?? string.Empty;
        skill.Keywords = request.Keywords!.ConvertAll(k => k.Trim());
        skill.Instructions = request.Instructions!;
        skill.Tools = request.Tools;
        skill.Mode = request.Mode == "team" ? "team" : null;
        skill.Model = request.Model;
        skill.ConfirmationTimeoutSeconds = request.ConfirmationTimeoutSeconds;
        skill.AskHumanTimeoutSeconds = request.AskHumanTimeoutSeconds;
        skill.UpdatedAt = now;
    }

    private static SkillResponse ToResponse(SkillEntity s) =>
        new(s.Name, s.Description, s.Keywords, s.Instructions, s.Tools, s.Mode ?? "single", s.Model, s.ConfirmationTimeoutSeconds, s.AskHumanTimeoutSeconds,
            s.CreatedAt, s.UpdatedAt);
}
