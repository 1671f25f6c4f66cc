using Conclave.Cluster.Redis;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

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
        CreateApiKeyRequest request, IApiKeyStore keys, TimeProvider time, CancellationToken cancellationToken)
    {
        var validation = new Validation()
            .Require(!string.IsNullOrWhiteSpace(request.Name) && request.Name.Length <= 100, "name", "The name is required, 1 to 100 characters.");
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var key = ApiKeys.Generate();
        var entity = new ApiKeyRecord(
            ApiKeys.NewId(), request.Name!.Trim(), ApiKeys.Hash(key), ApiKeys.Display(key), IsAdmin: false, time.GetUtcNow().UtcDateTime, RevokedAt: null);
        await keys.AddAsync(entity, cancellationToken);
        return TypedResults.Created($"/api/v1/api-keys/{entity.Id}", new CreatedApiKeyResponse(entity.Id, entity.Name, key, entity.CreatedAt));
    }

    private static async Task<Ok<List<ApiKeyResponse>>> ListAsync(IApiKeyStore keys, CancellationToken cancellationToken) =>
        TypedResults.Ok((await keys.ListAsync(cancellationToken)).Select(k => new ApiKeyResponse(k.Id, k.Name, k.Prefix, k.IsAdmin, k.CreatedAt, k.RevokedAt)).ToList());

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        string id, IApiKeyStore keys, IInstanceNoticeHandler here, IInstanceNotices others, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = await keys.FindActiveAsync(id, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound($"There is no active key '{id}'.");
        }

        if (key.IsAdmin)
        {
            return Problems.Conflict("The admin key cannot be revoked here; set Conclave:Auth:AdminKey to replace it.");
        }

        if (!await keys.RevokeAsync(id, time.GetUtcNow().UtcDateTime, cancellationToken))
        {
            return Problems.NotFound($"There is no active key '{id}'.");
        }

        // Its sockets close and its runs end (error cancelled) before this answers, here and on every other instance.
        var revoked = new InstanceNotice(InstanceNotice.KeyRevoked, id);
        await here.HandleAsync(revoked);
        await others.BroadcastAsync(revoked, cancellationToken);
        return TypedResults.NoContent();
    }
}
