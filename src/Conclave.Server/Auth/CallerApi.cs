using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server.Auth;

/// <summary>Who the caller is, as <c>GET /api/v1/me</c> answers.</summary>
/// <param name="TenantId">The caller's tenant.</param>
/// <param name="KeyId">The key's id (<c>admin</c> for a configured admin key).</param>
/// <param name="Name">The key's name.</param>
/// <param name="IsAdmin">Whether it is the admin key.</param>
internal sealed record MeResponse(string TenantId, string KeyId, string Name, bool IsAdmin);

/// <summary>A chat ticket: opens one socket, once, before it expires.</summary>
internal sealed record ChatTicketResponse(string Ticket, DateTime ExpiresAt);

/// <summary><c>GET /api/v1/me</c> and <c>POST /api/v1/chat/tickets</c>: the caller's own key, and tickets for browser sockets.</summary>
internal static class CallerApi
{
    public static void MapCallerApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/v1/me", MeAsync).WithTags("API keys").RequireAuthorization()
            .WithSummary("The caller's tenant and key, and whether it is the admin key.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        app.MapPost("/api/v1/chat/tickets", IssueAsync).WithTags("Chat").RequireAuthorization()
            .WithSummary("A single-use ticket that opens one chat socket as the caller (?ticket=), so that browsers keep keys out of URLs.")
            .ProducesProblem(StatusCodes.Status401Unauthorized);
    }

    private static async Task<Ok<MeResponse>> MeAsync(HttpContext http, IApiKeyStore keys)
    {
        var caller = Caller.From(http.User);
        var name = (await keys.FindActiveAsync(caller.KeyId, http.RequestAborted))?.Name ?? caller.KeyId;
        return TypedResults.Ok(new MeResponse(caller.TenantId, caller.KeyId, name, caller.IsAdmin));
    }

    private static async Task<Created<ChatTicketResponse>> IssueAsync(HttpContext http, ChatTickets tickets)
    {
        var (ticket, expiresAt) = await tickets.IssueAsync(Caller.From(http.User), http.RequestAborted);
        http.Response.Headers.CacheControl = "no-store";
        return TypedResults.Created((string?)null, new ChatTicketResponse(ticket, expiresAt));
    }
}
