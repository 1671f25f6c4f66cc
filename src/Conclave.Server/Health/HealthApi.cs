using Conclave.Cluster.Redis;
using Conclave.Server.Models;
using Conclave.Server.Options;
using Conclave.Storage;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Health;

/// <summary>Liveness of the process.</summary>
internal sealed record HealthResponse(string Status);

/// <summary>Readiness: storage (and Redis, with several instances) and the model endpoint answer; which model and storage are configured.</summary>
internal sealed record ReadinessResponse(string Status, string Provider, string Model, string Storage, string? Redis);

/// <summary><c>/healthz</c> and <c>/readyz</c>, without auth.</summary>
internal static class HealthApi
{
    public static void MapHealthApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/healthz", () => TypedResults.Ok(new HealthResponse("ok")))
            .WithTags("Health").WithSummary("200 while the process is up.").AllowAnonymous();
        app.MapGet("/readyz", ReadyAsync)
            .WithTags("Health").WithSummary("200 when storage (and Redis, with several instances) and the model endpoint answer; names the model provider, the model and the storage.").AllowAnonymous()
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);
    }

    private static async Task<Results<Ok<ReadinessResponse>, ProblemHttpResult>> ReadyAsync(
        IStorageProbe storage,
        ModelReadiness model,
        IOptions<LlmOptions> llm,
        IOptions<StorageOptions> storageOptions,
        IServiceProvider services,
        CancellationToken cancellationToken)
    {
        try
        {
            await storage.CheckAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return TypedResults.Problem("Storage does not answer.", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not Ready");
        }

        var cluster = services.GetService<IClusterProbe>();
        if (cluster is not null)
        {
            try
            {
                await cluster.CheckAsync(cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                return TypedResults.Problem("Redis does not answer: events of other instances' runs do not reach this one's sockets.",
                    statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not Ready");
            }
        }

        if (await model.CheckAsync().WaitAsync(cancellationToken) is { } reason)
        {
            return TypedResults.Problem($"The model endpoint is not ready: {reason}", statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not Ready");
        }

        var options = llm.Value;
        return TypedResults.Ok(new ReadinessResponse(
            "ready", options.Provider.ToLowerInvariant(), options.Model ?? options.Provider, storageOptions.Value.Provider.ToString().ToLowerInvariant(), cluster is null ? null : "ok"));
    }
}
