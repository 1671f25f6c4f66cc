using Conclave.Agents.Runs;
using Conclave.Storage.Sqlite;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Server.Auth;

/// <summary>The body of <c>POST /api/v1/api-keys</c>.</summary>
/// <param name="Name">A name for people, 1 to 100 characters.</param>
internal sealed record CreateApiKeyRequest(string? Name);

/// <summary>A new key: the only time the key itself is shown.</summary>
internal sealed record CreatedApiKeyResponse(string Id, string Name, string Key, DateTime CreatedAt);

/// <summary>A key as listed: never the key itself.</summary>
internal sealed record ApiKeyResponse(string Id, string Name, string Prefix, bool IsAdmin, DateTime CreatedAt, DateTime? RevokedAt);

/// <summary><c>/api/v1/api-keys</c>: tenant keys, for the admin only.</summary>
internal static class ApiKeysApi
{
    public const string AdminPolicy = "admin";

    public static RouteGroupBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/api-keys").WithTags("API keys").RequireAuthorization(AdminPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status403Forbidden);
        group.MapPost("/", CreateAsync).WithSummary("Creates a tenant key; the key is in this answer only.");
        group.MapGet("/", ListAsync).WithSummary("Lists keys, without the keys themselves.");
        group.MapDelete("/{id}", RevokeAsync).WithSummary("Revokes a key: closes its open sockets and ends its runs.")
            .ProducesProblem(StatusCodes.Status404NotFound).ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    private static async Task<Results<Created<CreatedApiKeyResponse>, ValidationProblem>> CreateAsync(
        CreateApiKeyRequest request, ConclaveDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrWhiteSpace(request.Name) && request.Name.Length <= 100, "name", "The name is required, 1 to 100 characters.");
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var key = ApiKeys.Generate();
        var entity = new ApiKeyEntity
        {
            Id = ApiKeys.NewId(),
            Name = request.Name!.Trim(),
            KeyHash = ApiKeys.Hash(key),
            Prefix = ApiKeys.Display(key),
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        db.ApiKeys.Add(entity);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/v1/api-keys/{entity.Id}", new CreatedApiKeyResponse(entity.Id, entity.Name, key, entity.CreatedAt));
    }

    private static async Task<Ok<List<ApiKeyResponse>>> ListAsync(ConclaveDbContext db, CancellationToken cancellationToken)
    {
        var keys = await db.ApiKeys.AsNoTracking()
            .OrderBy(k => k.CreatedAt)
            .Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.RevokedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(keys);
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string id, ConclaveDbContext db, ApiKeyRegistry registry, RunCoordinator runs, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == id && k.RevokedAt == null, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound($"There is no active key '{id}'.");
        }

        if (key.IsAdmin)
        {
            return Problems.Conflict("The admin key cannot be revoked here; set Conclave:Auth:AdminKey to replace it.");
        }

        key.RevokedAt = time.GetUtcNow().UtcDateTime;
        await db.SaveChangesAsync(cancellationToken);
        registry.OnRevoked(id);

        // Its runs end (error cancelled) before this answers, and its tenant starts no more.
        await runs.CloseTenantAsync(Caller.TenantOfKey(id, isAdmin: false));
        return TypedResults.NoContent();
    }
}
