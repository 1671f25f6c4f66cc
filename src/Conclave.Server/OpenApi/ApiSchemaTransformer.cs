using Conclave.Agents.Events;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Conclave.Server.OpenApi;

/// <summary>
/// Makes the schemas say what the server takes and sends: a request body's nullable field may be left out (the server
/// reads a missing field as null and says itself which fields it needs); a number is a number (not also a digit string,
/// which the reader would take but no client needs to send); every event has its type, event_id and ts.
/// </summary>
internal sealed class ApiSchemaTransformer : IOpenApiSchemaTransformer
{
    private static readonly string[] EventFields = ["type", "event_id", "ts"];

    public Task TransformAsync(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type && (type & (JsonSchemaType.Integer | JsonSchemaType.Number)) != 0 && (type & JsonSchemaType.String) != 0)
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        if (context.ParameterDescription is not null && schema.Required is { Count: > 0 } required)
        {
            foreach (var property in context.JsonTypeInfo.Properties.Where(IsNullable))
            {
                required.Remove(property.Name);
            }
        }

        if (context.JsonTypeInfo.Type.IsSubclassOf(typeof(AgentEvent)) && schema.Properties is { } properties)
        {
            schema.Required ??= new HashSet<string>(StringComparer.Ordinal);
            foreach (var field in EventFields.Where(properties.ContainsKey))
            {
                schema.Required.Add(field);
            }
        }

        return Task.CompletedTask;
    }

    private static bool IsNullable(System.Text.Json.Serialization.Metadata.JsonPropertyInfo property) =>
        Nullable.GetUnderlyingType(property.PropertyType) is not null || (!property.PropertyType.IsValueType && property.IsSetNullable);
}
