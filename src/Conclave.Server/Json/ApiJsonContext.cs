using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Server.Auth;
using Conclave.Server.Experts;
using Conclave.Server.Health;
using Conclave.Server.Mcp;
using Conclave.Server.Runs;
using Conclave.Server.Sessions;
using Conclave.Server.Skills;
using Conclave.Server.Tools;

namespace Conclave.Server.Json;

/// <summary>Source-generated JSON for the REST API's bodies, snake_case like the socket protocol.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower)]
[JsonSerializable(typeof(CreateSessionRequest))]
[JsonSerializable(typeof(SessionResponse))]
[JsonSerializable(typeof(List<SessionResponse>))]
[JsonSerializable(typeof(List<MessageResponse>))]
[JsonSerializable(typeof(SkillRequest))]
[JsonSerializable(typeof(SkillResponse))]
[JsonSerializable(typeof(List<SkillResponse>))]
[JsonSerializable(typeof(List<ToolResponse>))]
[JsonSerializable(typeof(ExpertRequest))]
[JsonSerializable(typeof(ExpertResponse))]
[JsonSerializable(typeof(List<ExpertResponse>))]
[JsonSerializable(typeof(McpServerRequest))]
[JsonSerializable(typeof(McpServerResponse))]
[JsonSerializable(typeof(List<McpServerResponse>))]
[JsonSerializable(typeof(CreateApiKeyRequest))]
[JsonSerializable(typeof(CreatedApiKeyResponse))]
[JsonSerializable(typeof(List<ApiKeyResponse>))]
[JsonSerializable(typeof(RunResponse))]
[JsonSerializable(typeof(List<RunResponse>))]
[JsonSerializable(typeof(MeResponse))]
[JsonSerializable(typeof(ChatTicketResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(ReadinessResponse))]
internal sealed partial class ApiJsonContext : JsonSerializerContext;
