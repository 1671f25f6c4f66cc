using System.Net.WebSockets;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Auth;
using Conclave.Server.Options;
using Conclave.Server.Sessions;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Chat;

/// <summary>
/// <c>GET /api/v1/chat/ws/{session_id}</c>: the chat socket. Every refusal is a plain HTTP status before the
/// upgrade: 401 (auth), 403 (Origin), 404 (no such session for this tenant), 400 (not a WebSocket request or a
/// bad <c>last_event_id</c>).
/// </summary>
internal static partial class ChatSocketEndpoint
{
    public static RouteHandlerBuilder MapChatSocket(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/v1/chat/ws/{sessionId}", AcceptAsync)
            .WithTags("Chat")
            .WithSummary("Opens the chat WebSocket of a session (api_key and last_event_id in the query; see the protocol docs).")
            .RequireAuthorization()
            .Produces(StatusCodes.Status101SwitchingProtocols)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound);

    private static async Task<IResult> AcceptAsync(
        string sessionId,
        HttpContext http,
        ISessionStore sessions,
        IOptions<ChatSocketOptions> socketOptions,
        IOptions<CorsOptions> cors,
        RunCoordinator runs,
        IRunControl control,
        SessionEventFeed feed,
        ChatConnectionRegistry registry,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        if (!OriginPolicy.IsAllowed(http.Request, cors.Value.Origins))
        {
            return TypedResults.Problem("This Origin may not open chat sockets (Conclave:Cors:Origins).", statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");
        }

        if (!await SessionExistsAsync(sessions, sessionId, http))
        {
            return Problems.NotFound($"There is no session '{sessionId}'.");
        }

        if (!http.WebSockets.IsWebSocketRequest)
        {
            return TypedResults.Problem("This endpoint only accepts WebSocket upgrades.", statusCode: StatusCodes.Status400BadRequest, title: "Bad Request");
        }

        long? resumeAfter = null;
        if (http.Request.Query.TryGetValue("last_event_id", out var raw))
        {
            if (!long.TryParse(raw, out var parsed) || parsed < 0)
            {
                return TypedResults.ValidationProblem(new Validation().Add("last_event_id", "last_event_id must be a whole number, 0 or more.").Errors);
            }

            resumeAfter = parsed;
        }

        var options = socketOptions.Value;
        using var socket = await http.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = TimeSpan.FromSeconds(options.KeepAliveSeconds),
            KeepAliveTimeout = options.KeepAliveTimeoutSeconds == 0 ? Timeout.InfiniteTimeSpan : TimeSpan.FromSeconds(options.KeepAliveTimeoutSeconds),
        });
        using var connection = new ChatConnection(
            socket, (http.Features.Get<IHttpUpgradeFeature>() as FrameBatchingUpgrade)?.Stream, sessionId, Caller.From(http.User), options, runs, control, time,
            loggers.CreateLogger<ChatConnection>());
        var opened = time.GetTimestamp();
        var logger = loggers.CreateLogger("Conclave.Chat.Sockets");
        LogOpened(logger, sessionId, connection.Caller.TenantId, resumeAfter?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none");
        using (var opening = await feed.OpenAsync(sessionId, resumeAfter, connection, http.RequestAborted))
        {
            registry.Add(connection);
            if (!await SessionExistsAsync(sessions, sessionId, http))
            {
                // Deleted between the check above and now: DELETE found no socket to close.
                connection.RequestClose(WebSocketCloseStatus.NormalClosure, "The session was deleted.", drain: false);
            }

            try
            {
                await connection.RunAsync(opening);
            }
            finally
            {
                registry.Remove(connection);
                LogClosed(logger, sessionId, connection.Caller.TenantId, time.GetElapsedTime(opened).TotalSeconds,
                    socket.CloseStatus is { } status ? ((int)status).ToString(System.Globalization.CultureInfo.InvariantCulture) : "none (the connection ended without a close)");
            }
        }

        return Results.Empty;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat socket opened on session {SessionId} (tenant {TenantId}), last_event_id {LastEventId}")]
    private static partial void LogOpened(ILogger logger, string sessionId, string tenantId, string lastEventId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat socket closed on session {SessionId} (tenant {TenantId}) after {OpenSeconds:0.0} s open; close status {CloseStatus}")]
    private static partial void LogClosed(ILogger logger, string sessionId, string tenantId, double openSeconds, string closeStatus);

    private static async Task<bool> SessionExistsAsync(ISessionStore sessions, string sessionId, HttpContext http) =>
        await SessionsApi.FindAsync(sessions, sessionId, http) is not null;
}
