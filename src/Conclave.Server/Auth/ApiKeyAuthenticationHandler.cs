using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Auth;

/// <summary>
/// Authenticates <c>X-API-Key: KEY</c> or <c>Authorization: Bearer KEY</c>; on the chat socket path also
/// <c>?api_key=KEY</c> or a single-use <c>?ticket=TICKET</c> (<see cref="ChatTickets"/>), since browsers cannot set
/// headers on a WebSocket.
/// </summary>
internal sealed class ApiKeyAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ApiKeyRegistry keys,
    ChatTickets tickets,
    IProblemDetailsService problems)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ApiKey";
    public const string HeaderName = "X-API-Key";
    public const string QueryName = "api_key";
    public const string TicketQueryName = "ticket";
    private const string ChatSocketPath = "/api/v1/chat/ws";

    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var presented = PresentedKey();
        if (!string.IsNullOrEmpty(presented))
        {
            return Authenticated(await keys.ResolveAsync(presented, Context.RequestAborted), "The API key is not valid.");
        }

        var ticket = Request.Path.StartsWithSegments(ChatSocketPath) ? Request.Query[TicketQueryName].ToString() : null;
        return string.IsNullOrEmpty(ticket)
            ? AuthenticateResult.NoResult()
            : Authenticated(await tickets.RedeemAsync(ticket, Context.RequestAborted), "The ticket is not valid: unknown, used already or expired.");
    }

    private static AuthenticateResult Authenticated(Caller? caller, string failure) =>
        caller is null
            ? AuthenticateResult.Fail(failure)
            : AuthenticateResult.Success(new AuthenticationTicket(caller.ToPrincipal(SchemeName), SchemeName));

    protected override Task HandleChallengeAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status401Unauthorized, "Unauthorized",
            $"Send a valid API key in the {HeaderName} header or as Authorization: Bearer (a chat socket also takes ?{QueryName}= or a ?{TicketQueryName}= from POST /api/v1/chat/tickets).");

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        WriteProblemAsync(StatusCodes.Status403Forbidden, "Forbidden", "Only the admin key may do this.");

    private string? PresentedKey()
    {
        if (Request.Headers.TryGetValue(HeaderName, out var header) && !string.IsNullOrEmpty(header))
        {
            return header.ToString();
        }

        var authorization = Request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return authorization["Bearer ".Length..].Trim();
        }

        return Request.Path.StartsWithSegments(ChatSocketPath) ? Request.Query[QueryName].ToString() : null;
    }

    private async Task WriteProblemAsync(int status, string title, string detail)
    {
        Response.StatusCode = status;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = { Status = status, Title = title, Detail = detail },
        });
    }
}
