using Conclave.Agents.Tools;
using Conclave.Server.Auth;
using Conclave.Server.Tools;
using Conclave.Agents.Skills;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

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
        SkillRequest request, HttpContext http, ITenantItemStore<Skill> skills, ToolCatalog tools, TimeProvider time)
    {
        var validation = request.Validate(await ToolsApi.KnownAsync(tools, Caller.From(http.User).TenantId, request.Tools, http.RequestAborted));
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var stored = await skills.AddAsync(Caller.From(http.User).TenantId, ToSkill(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        return stored is null
            ? Problems.Conflict($"A skill named '{request.Name}' exists; PUT /api/v1/skills/{request.Name} replaces it.")
            : TypedResults.Created($"/api/v1/skills/{request.Name}", ToResponse(stored));
    }

    private static async Task<Results<Ok<SkillResponse>, ValidationProblem>> UpsertAsync(
        string name, SkillRequest request, HttpContext http, ITenantItemStore<Skill> skills, ToolCatalog tools, TimeProvider time)
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

        var stored = await skills.PutAsync(Caller.From(http.User).TenantId, ToSkill(request), time.GetUtcNow().UtcDateTime, http.RequestAborted);
        return TypedResults.Ok(ToResponse(stored));
    }

    private static async Task<Ok<List<SkillResponse>>> ListAsync(HttpContext http, ITenantItemStore<Skill> skills) =>
        TypedResults.Ok((await skills.ListAsync(Caller.From(http.User).TenantId, http.RequestAborted)).Select(ToResponse).ToList());

    private static async Task<Results<Ok<SkillResponse>, ProblemHttpResult>> GetAsync(string name, HttpContext http, ITenantItemStore<Skill> skills) =>
        await skills.FindAsync(Caller.From(http.User).TenantId, name, http.RequestAborted) is { } stored
            ? TypedResults.Ok(ToResponse(stored))
            : NotFound(name);

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(string name, HttpContext http, ITenantItemStore<Skill> skills) =>
        await skills.DeleteAsync(Caller.From(http.User).TenantId, name, http.RequestAborted) ? TypedResults.NoContent() : NotFound(name);

    private static ProblemHttpResult NotFound(string name) => Problems.NotFound($"There is no skill named '{name}'.");

    /// <summary>The skill a valid request describes.</summary>
    private static Skill ToSkill(SkillRequest request) => new(
        request.Name!,
        request.Description ?? string.Empty,
        request.Keywords!.ConvertAll(k => k.Trim()),
        request.Instructions!,
        request.Tools,
        request.Mode == "team" ? "team" : null,
        request.Model,
        request.ConfirmationTimeoutSeconds,
        request.AskHumanTimeoutSeconds);

    private static SkillResponse ToResponse(Stored<Skill> stored)
    {
        var s = stored.Item;
        return new(s.Name, s.Description, [.. s.Keywords], s.Instructions, s.Tools?.ToList(), s.Mode ?? "single", s.Model,
            s.ConfirmationTimeoutSeconds, s.AskHumanTimeoutSeconds, stored.CreatedAt, stored.UpdatedAt);
    }
}
