using Conclave.Server.Auth;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Conclave.Server.OpenApi;

/// <summary>Describes the API key header (and Bearer form) in the OpenAPI document, and its servers without a trailing slash.</summary>
internal sealed class ApiKeySecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Conclave";
        document.Info.Description = "Self-hosted AI agent server. The chat protocol runs over the WebSocket at /api/v1/chat/ws/{sessionId}; see docs/PROTOCOL.md.";
        foreach (var server in document.Servers ?? [])
        {
            // "http://host:8080/" + "/api/v1/sessions" would make a generated client's URLs start with "//".
            if (server.Url is { Length: > 1 } url && url.EndsWith('/'))
            {
                server.Url = url.TrimEnd('/');
            }
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[ApiKeyAuthenticationHandler.SchemeName] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.ApiKey,
            In = ParameterLocation.Header,
            Name = ApiKeyAuthenticationHandler.HeaderName,
            Description = "An API key; also accepted as Authorization: Bearer KEY, and on the chat socket as ?api_key=KEY.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiKeyAuthenticationHandler.SchemeName, document)] = [],
        });
        return Task.CompletedTask;
    }
}
