using System.Text.Json;
using System.Text.RegularExpressions;
using Conclave.Agents;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Cluster.Redis;
using Conclave.Server.Auth;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;

namespace Conclave.Server.Sessions;

/// <summary><c>/api/v1/sessions</c>: a tenant's sessions, their history and stored events.</summary>
internal static partial class SessionsApi
{
    private const int DefaultPageSize = 50;
    private const int MaxPageSize = 200;
    private const int DefaultEventPage = 1_000;
    private const int MaxEventPage = 10_000;
    private static readonly string PageLimitRule = $"limit must be a whole number from 1 to {MaxPageSize}";
    private const string CursorRule = "cursor must be the X-Next-Cursor header of an earlier page";
    private static readonly string EventLimitRule = $"limit must be a whole number from 1 to {MaxEventPage}";
    private const string AfterRule = "after must be a whole number, 0 or more";

    public static RouteGroupBuilder MapSessionsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/sessions").WithTags("Sessions").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/", CreateAsync).WithSummary("Creates a session.");
        group.MapGet("/", ListAsync).WithSummary("Lists the caller's sessions, newest first; the X-Next-Cursor header gives the next page.")
            .WithMetadata(new QueryRules(("limit", PageLimitRule), ("cursor", CursorRule)));
        group.MapGet("/{id}", GetAsync).WithSummary("Gets a session.");
        group.MapPatch("/{id}", UpdateAsync).WithSummary("Changes a session's title and/or metadata: a field left out stays, null clears it.")
            .ProducesValidationProblem()
            .AddOpenApiOperationTransformer((operation, context, _) =>
            {
                // The handler reads the body as JSON to tell a field left out from a null one; its form is the create request's.
                operation.RequestBody!.Content!["application/json"].Schema = new OpenApiSchemaReference(nameof(CreateSessionRequest), context.Document);
                return Task.CompletedTask;
            });
        group.MapDelete("/{id}", DeleteAsync).WithSummary("Deletes a session: cancels its run, closes its sockets, removes its data and workspace.");
        group.MapGet("/{id}/messages", MessagesAsync).WithSummary("The session's history, oldest first.");
        group.MapGet("/{id}/events", EventsAsync).WithSummary("Stored events with event_id above `after`, in order.")
            .WithMetadata(new QueryRules(("limit", EventLimitRule), ("after", AfterRule)));
        return group;
    }

    private static async Task<Results<Created<SessionResponse>, ValidationProblem>> CreateAsync(
        CreateSessionRequest request, HttpContext http, ISessionStore sessions, TimeProvider time)
    {
        var validation = request.Validate();
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var now = time.GetUtcNow().UtcDateTime;
        var session = new SessionRecord(
            SortableIds.New(),
            Caller.From(http.User).TenantId,
            request.Title,
            request.Metadata is { ValueKind: JsonValueKind.Object } m ? m.GetRawText() : null,
            now,
            now);
        await sessions.AddAsync(session, http.RequestAborted);
        return TypedResults.Created($"/api/v1/sessions/{session.Id}", ToResponse(session, null));
    }

    private static async Task<Results<Ok<List<SessionResponse>>, ValidationProblem>> ListAsync(
        HttpContext http, ISessionStore sessions, IRunControl runs, int? limit, string? cursor)
    {
        var validation = new Validation()
            .Require(limit is null or (>= 1 and <= MaxPageSize), "limit", QueryRules.Refusal(PageLimitRule, limit))
            .Require(cursor is null || SessionId().IsMatch(cursor), "cursor", QueryRules.Refusal(CursorRule, cursor));
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var tenant = Caller.From(http.User).TenantId;
        var take = limit ?? DefaultPageSize;
        var page = (await sessions.ListAsync(tenant, cursor, take + 1, http.RequestAborted)).ToList();
        if (page.Count > take)
        {
            page.RemoveAt(take);
            http.Response.Headers["X-Next-Cursor"] = page[^1].Id;
        }

        // The tenant's active runs in one ask (one query as one of several instances), not one per session.
        var active = page.Count == 0
            ? new Dictionary<string, string>(StringComparer.Ordinal)
            : (await runs.ListActiveAsync(tenant, http.RequestAborted)).ToDictionary(r => r.SessionId, r => r.RunId, StringComparer.Ordinal);
        return TypedResults.Ok(page.ConvertAll(session => ToResponse(session, active.GetValueOrDefault(session.Id))));
    }

    private static async Task<Results<Ok<SessionResponse>, ProblemHttpResult>> GetAsync(
        string id, HttpContext http, ISessionStore sessions, IRunControl runs)
    {
        var session = await FindAsync(sessions, id, http);
        return session is null ? NotFoundProblem(id) : TypedResults.Ok(ToResponse(session, (await runs.FindActiveAsync(id, http.RequestAborted))?.RunId));
    }

    private static async Task<Results<Ok<SessionResponse>, ProblemHttpResult, ValidationProblem>> UpdateAsync(
        string id, JsonElement body, HttpContext http, ISessionStore sessions, IRunControl runs, TimeProvider time)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return TypedResults.ValidationProblem(new Validation().Add("body", "The body must be a JSON object.").Errors);
        }

        var hasTitle = body.TryGetProperty("title", out var title);
        var hasMetadata = body.TryGetProperty("metadata", out var metadata);
        var validation = new Validation()
            .Require(!hasTitle || title.ValueKind is JsonValueKind.String or JsonValueKind.Null, "title", "The title must be a string or null.")
            .Require(!hasTitle || JsonText.IsValid(title), "title", "The title holds text that is not valid Unicode (an unpaired surrogate escape).");
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        var change = new CreateSessionRequest(hasTitle ? title.GetString() : null, hasMetadata ? metadata : null);
        validation = change.Validate();
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        // One write of just the fields given: a PATCH of the title and one of the metadata at once both hold.
        var updated = await sessions.UpdateAsync(
            Caller.From(http.User).TenantId,
            id,
            new SessionChange(hasTitle, change.Title, hasMetadata, hasMetadata && metadata.ValueKind == JsonValueKind.Object ? metadata.GetRawText() : null),
            time.GetUtcNow().UtcDateTime,
            http.RequestAborted);
        return updated is null
            ? NotFoundProblem(id)
            : TypedResults.Ok(ToResponse(updated, (await runs.FindActiveAsync(id, http.RequestAborted))?.RunId));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string id, HttpContext http, ISessionStore sessions, IInstanceNoticeHandler here, IInstanceNotices others)
    {
        if (await FindAsync(sessions, id, http) is null)
        {
            return NotFoundProblem(id);
        }

        // The session goes first: from then on no run can start on it and no socket can open to it. Then its run is
        // stopped and its sockets closed, here and on every other instance, and only then is the rest removed.
        await sessions.RemoveAsync(id, CancellationToken.None);
        var deleted = new InstanceNotice(InstanceNotice.SessionDeleted, id);
        await here.HandleAsync(deleted);
        await others.BroadcastAsync(deleted, CancellationToken.None);
        await sessions.RemoveDataAsync(id, CancellationToken.None);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<List<MessageResponse>>, ProblemHttpResult>> MessagesAsync(
        string id, HttpContext http, ISessionStore sessions)
    {
        if (await FindAsync(sessions, id, http) is null)
        {
            return NotFoundProblem(id);
        }

        var messages = await sessions.ListMessagesAsync(id, http.RequestAborted);
        return TypedResults.Ok(messages.Select(m => new MessageResponse(m.Role, m.Content, m.RunId, m.CreatedAt, m.Tool)).ToList());
    }

    private static async Task<Results<StoredEventsResult, ProblemHttpResult, ValidationProblem>> EventsAsync(
        string id, HttpContext http, ISessionStore sessions, IEventStore events, long? after, int? limit)
    {
        var validation = new Validation()
            .Require(limit is null or (>= 1 and <= MaxEventPage), "limit", QueryRules.Refusal(EventLimitRule, limit))
            .Require(after is null or >= 0, "after", QueryRules.Refusal(AfterRule, after));
        if (!validation.IsValid)
        {
            return TypedResults.ValidationProblem(validation.Errors);
        }

        if (await FindAsync(sessions, id, http) is null)
        {
            return NotFoundProblem(id);
        }

        return new StoredEventsResult(await events.ReadAfterAsync(id, after ?? 0, limit ?? DefaultEventPage, http.RequestAborted));
    }

    /// <summary>The caller's session with that id; another tenant's session is as absent as a missing one.</summary>
    internal static Task<SessionRecord?> FindAsync(ISessionStore sessions, string id, HttpContext http) =>
        sessions.FindAsync(Caller.From(http.User).TenantId, id, http.RequestAborted);

    /// <summary>A session id (<see cref="SortableIds"/>): what a cursor, the last id of a page, must be.</summary>
    [GeneratedRegex("^[0-9a-f]{32}$")]
    private static partial Regex SessionId();

    private static ProblemHttpResult NotFoundProblem(string id) => Problems.NotFound($"There is no session '{id}'.");

    private static SessionResponse ToResponse(SessionRecord s, string? activeRunId) => new(
        s.Id,
        s.Title,
        s.Metadata is null ? null : JsonDocument.Parse(s.Metadata).RootElement,
        s.CreatedAt,
        s.UpdatedAt,
        activeRunId);
}
