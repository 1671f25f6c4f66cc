using System.Globalization;
using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.OpenApi;

namespace Conclave.Server.OpenApi;

/// <summary>
/// Describes what every operation can answer besides what its handler returns: a problem 400 and 415 for a body that
/// cannot be read, a problem 400 for a query value that does not parse; that an anonymous one needs no key; and names
/// each operation (its operationId) for generated clients, after its handler: <c>SessionsApi.CreateAsync</c> is
/// <c>sessionsCreate</c>.
/// </summary>
internal sealed class ProblemResponsesTransformer : IOpenApiOperationTransformer
{
    public Task TransformAsync(OpenApiOperation operation, OpenApiOperationTransformerContext context, CancellationToken cancellationToken)
    {
        operation.OperationId ??= OperationId(context);
        if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
        {
            // No key needed, whatever the document's default requirement says.
            operation.Security = [];
        }

        operation.Responses ??= [];
        if (operation.RequestBody is not null)
        {
            AddProblem(operation, context, StatusCodes.Status400BadRequest, "The body is missing, is not JSON or is not of the expected form.");
            AddProblem(operation, context, StatusCodes.Status415UnsupportedMediaType, "The body is not sent as application/json.");
        }

        if (operation.Parameters?.Any(p => p.In == ParameterLocation.Query) == true)
        {
            AddProblem(operation, context, StatusCodes.Status400BadRequest, "A query value does not parse or is out of range.");
        }

        return Task.CompletedTask;
    }

    private static void AddProblem(OpenApiOperation operation, OpenApiOperationTransformerContext context, int status, string description)
    {
        var key = status.ToString(CultureInfo.InvariantCulture);
        if (operation.Responses!.ContainsKey(key))
        {
            return;
        }

        operation.Responses[key] = new OpenApiResponse
        {
            Description = $"{ReasonPhrases.GetReasonPhrase(status)}: {description}",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                ["application/problem+json"] = new() { Schema = new OpenApiSchemaReference("ProblemDetails", context.Document) },
            },
        };
    }

    private static string OperationId(OpenApiOperationTransformerContext context)
    {
        var handler = context.Description.ActionDescriptor.EndpointMetadata.OfType<MethodInfo>().FirstOrDefault();
        string name;
        if (handler is { DeclaringType.Name: var type, Name: var method } && !method.Contains('<', StringComparison.Ordinal))
        {
            name = (type.EndsWith("Api", StringComparison.Ordinal) ? type[..^3] : type)
                + (method.EndsWith("Async", StringComparison.Ordinal) ? method[..^5] : method);
        }
        else
        {
            // A lambda handler: the method and the path's fixed segments (GET /healthz is getHealthz).
            var segments = (context.Description.RelativePath ?? string.Empty).Split('/', StringSplitOptions.RemoveEmptyEntries)
                .Where(s => !s.StartsWith('{'))
                .Select(s => char.ToUpperInvariant(s[0]) + s[1..]);
            name = (context.Description.HttpMethod ?? "Get").ToLowerInvariant() + string.Concat(segments);
        }

        return char.ToLowerInvariant(name[0]) + name[1..];
    }
}
