using Conclave.Agents.Runs;
using Conclave.Server.Auth;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server.Runs;

/// <summary>An active run, as <c>GET /api/v1/runs</c> lists it.</summary>
internal sealed record RunResponse(string RunId, string SessionId, string TenantId, DateTime StartedAt, int PendingRequests);

/// <summary>
/// <c>/api/v1/runs</c>: the active runs, on whichever instance of the service they execute. A tenant sees and cancels
/// its own; the admin key sees and cancels every tenant's (another tenant's run is 404 to a tenant).
/// </summary>
internal static class RunsApi
{
    public static RouteGroupBuilder MapRunsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/v1/runs").WithTags("Runs").RequireAuthorization()
            .ProducesProblem(StatusCodes.Status401Unauthorized);
        group.MapGet("/", ListAsync).WithSummary("Lists the active runs, oldest first: the caller's, or every tenant's for the admin.");
        group.MapGet("/{runId}", GetAsync).WithSummary("Gets an active run.").ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{runId}/cancel", CancelAsync)
            .WithSummary("Cancels an active run and answers once it has ended (its terminal event is error cancelled).")
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<Ok<List<RunResponse>>> ListAsync(HttpContext http, IRunControl runs) =>
        TypedResults.Ok((await runs.ListActiveAsync(Visible(http), http.RequestAborted)).Select(ToResponse).ToList());

    private static async Task<Results<Ok<RunResponse>, ProblemHttpResult>> GetAsync(string runId, HttpContext http, IRunControl runs) =>
        await FindAsync(runs, runId, http) is { } run ? TypedResults.Ok(ToResponse(run)) : NotFound(runId);

    private static async Task<Results<NoContent, ProblemHttpResult>> CancelAsync(string runId, HttpContext http, IRunControl runs)
    {
        if (await FindAsync(runs, runId, http) is not { } run)
        {
            return NotFound(runId);
        }

        // The admin ending another tenant's run says so in the run's terminal error.
        var reason = run.TenantId == Caller.From(http.User).TenantId ? StopReason.Cancelled : StopReason.CancelledByOperator;
        return await runs.StopRunAsync(run.SessionId, runId, reason, http.RequestAborted) ? TypedResults.NoContent() : NotFound(runId);
    }

    /// <summary>The tenant whose runs the caller sees, or null for every tenant (the admin).</summary>
    private static string? Visible(HttpContext http) => Caller.From(http.User) is { IsAdmin: false } caller ? caller.TenantId : null;

    private static async Task<RunSummary?> FindAsync(IRunControl runs, string runId, HttpContext http) =>
        (await runs.ListActiveAsync(Visible(http), http.RequestAborted)).FirstOrDefault(r => r.RunId == runId);

    private static ProblemHttpResult NotFound(string runId) => Problems.NotFound($"There is no active run '{runId}'.");

    private static RunResponse ToResponse(RunSummary run) => new(run.RunId, run.SessionId, run.TenantId, run.StartedAt, run.PendingRequests);
}
