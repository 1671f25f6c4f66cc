using Conclave.Server.Models;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Health;

/// <summary>Liveness of the process.</summary>
internal sealed record HealthResponse(string Status);

/// <summary>Readiness: storage answers; which model is configured.</summary>
internal sealed record ReadinessResponse(string Status, string Provider, string Model);

/// <summary><c>/healthz</c> and <c>/readyz</c>, without auth.</summary>
internal static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Health").WithSummary("200 while the process is up.").AllowAnonymous();
        app.MapGet("/readyz", ReadyAsync)
            .WithTags("Health").WithSummary("200 when storage answers; names the model provider and model.").AllowAnonymous();
    }

    private static async Task<Results<Ok<ReadinessResponse>, ProblemHttpResult>> ReadyAsync(
        IStorageProbe storage, IOptions<LlmOptions> llm, CancellationToken cancellationToken)
    {
        try
        {
            await storage.CheckAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TypedResults.Problem("Storage does not answer.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not Ready");
        }

        var options = llm.Value;
        return TypedResults.Ok(new ReadinessResponse("ready", options.Provider.ToLowerInvariant(), options.Model ?? options.Provider));
    }
}
