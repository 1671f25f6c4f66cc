using System.Text.Json;
using Conclave.Agents.Events;

namespace Conclave.Server.Sessions;

/// <summary>The body of <c>POST /api/v1/sessions</c>.</summary>
/// <param name="Title">A title for people; at most 200 characters.</param>
/// <param name="Metadata">Any JSON object the client wants kept with the session.</param>
internal sealed record CreateSessionRequest(string? Title, JsonElement? Metadata)
{
    public const int MaxTitleLength = 200;
    public const int MaxMetadataBytes = 16 * 1024;

    public Validation Validate()
    {
        var validation = new Validation()
            .Require(Title is null || Title.Length <= MaxTitleLength, "title", $"The title is longer than {MaxTitleLength} characters.");
        if (Metadata is { } metadata && metadata.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
        {
            validation.Add("metadata", "The metadata must be a JSON object.");
        }
        else if (Metadata is { ValueKind: JsonValueKind.Object } m && m.GetRawText().Length > MaxMetadataBytes)
        {
            validation.Add("metadata", $"The metadata is larger than {MaxMetadataBytes} bytes.");
        }
        else if (Metadata is { } kept && !JsonText.IsValid(kept))
        {
            validation.Add("metadata", "The metadata holds text that is not valid Unicode (an unpaired surrogate escape).");
        }

        return validation;
    }
}

/// <summary>A session.</summary>
internal sealed record SessionResponse(
    string Id, string? Title, JsonElement? Metadata, DateTime CreatedAt, DateTime UpdatedAt, string? ActiveRunId);

/// <summary>A message of a session's history.</summary>
internal sealed record MessageResponse(string Role, string Content, string RunId, DateTime CreatedAt, string? Tool);
