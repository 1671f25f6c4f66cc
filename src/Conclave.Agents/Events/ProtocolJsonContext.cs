using System.Text.Json.Serialization;

namespace Conclave.Agents.Events;

/// <summary>Source-generated JSON for the events of the protocol: snake_case, nulls left out.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(AgentEvent))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext;
