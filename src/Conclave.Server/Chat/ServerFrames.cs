using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conclave.Server.Chat;

/// <summary>The server's name and version, in <c>connected</c>.</summary>
internal sealed record ServerInfo(string Name, string Version);

/// <summary>The first frame on every socket; not stored.</summary>
internal sealed record ConnectedFrame(
    string SessionId,
    int Protocol,
    ServerInfo Server,
    long LastEventId,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? ActiveRunId,
    IReadOnlyList<JsonElement> Pending,
    DateTime Ts)
{
    [JsonPropertyOrder(-1)]
    public string Type => "connected";
}

/// <summary>The answer to a <c>ping</c>; not stored.</summary>
internal sealed record PongFrame(JsonElement? Nonce, DateTime Ts)
{
    [JsonPropertyOrder(-1)]
    public string Type => "pong";
}

/// <summary>An error about a client frame; not stored, never ends a run.</summary>
internal sealed record ErrorFrame(string Code, string Message, bool Retryable, DateTime Ts)
{
    [JsonPropertyOrder(-1)]
    public string Type => "error";
}

/// <summary>Source-generated JSON for the frames only the socket layer sends.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ConnectedFrame))]
[JsonSerializable(typeof(PongFrame))]
[JsonSerializable(typeof(ErrorFrame))]
internal sealed partial class ServerFramesJsonContext : JsonSerializerContext
{
    /// <summary>The context the wire uses: only the characters JSON requires are escaped, as for events.</summary>
    public static ServerFramesJsonContext Wire { get; } = new(new JsonSerializerOptions
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    });
}
