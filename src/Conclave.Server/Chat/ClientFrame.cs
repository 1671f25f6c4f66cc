using System.Text.Json;
using Conclave.Agents.Events;

namespace Conclave.Server.Chat;

/// <summary>A client frame, parsed and checked.</summary>
internal abstract record ClientFrame
{
    /// <summary>Parses one text frame; a frame that breaks the protocol becomes an <see cref="InvalidFrame"/>.</summary>
    public static ClientFrame Parse(ReadOnlyMemory<byte> utf8)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(utf8, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            return new InvalidFrame(ErrorCodes.InvalidJson, "The frame is not valid JSON.");
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return new InvalidFrame(ErrorCodes.InvalidMessage, "A frame must be a JSON object.");
            }

            try
            {
                if (!root.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String)
                {
                    return new InvalidFrame(ErrorCodes.InvalidMessage, "A frame needs a string field 'type'.");
                }

                return type.GetString() switch
                {
                    "message" => ParseMessage(root),
                    "ping" => ParsePing(root),
                    "cancel" => new CancelFrame(OptionalString(root, "run_id")),
                    "confirmation_reply" => new ConfirmationReplyFrame(
                        RequiredString(root, "request_id"), RequiredBool(root, "approved"), OptionalString(root, "reason")),
                    "reply" => new ReplyFrame(RequiredString(root, "request_id"), RequiredString(root, "content")),
                    var other => new InvalidFrame(ErrorCodes.UnknownType, $"Unknown frame type '{other}'."),
                };
            }
            catch (FieldException ex)
            {
                return new InvalidFrame(ErrorCodes.InvalidMessage, ex.Message);
            }
            catch (InvalidOperationException)
            {
                // A string or a field name that is valid JSON but not valid text, such as a lone surrogate escape
                // ("\ud800"): reading it, or looking a field up among such names, throws.
                return new InvalidFrame(ErrorCodes.InvalidMessage, "A field or its name holds text that is not valid Unicode (an unpaired surrogate escape).");
            }
        }
    }

    private static PingFrame ParsePing(JsonElement root)
    {
        if (!root.TryGetProperty("nonce", out var nonce) || nonce.ValueKind == JsonValueKind.Null)
        {
            return new PingFrame(null);
        }

        // It is echoed: it must be something that can be written back out.
        return JsonText.IsValid(nonce)
            ? new PingFrame(nonce.Clone())
            : throw new FieldException("'nonce' holds text that is not valid Unicode (an unpaired surrogate escape).");
    }

    private static MessageFrame ParseMessage(JsonElement root)
    {
        var content = RequiredString(root, "content");
        if (string.IsNullOrWhiteSpace(content))
        {
            throw new FieldException("'content' must not be empty.");
        }

        var mode = OptionalString(root, "mode");
        if (mode is not (null or "auto" or "single" or "team"))
        {
            throw new FieldException("'mode' must be auto, single or team.");
        }

        return new MessageFrame(content, OptionalString(root, "message_id"), mode, OptionalString(root, "skill"));
    }

    private static string RequiredString(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new FieldException($"'{name}' is required and must be a string.");

    private static string? OptionalString(JsonElement root, string name) =>
        !root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw new FieldException($"'{name}' must be a string.");

    private static bool RequiredBool(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? value.GetBoolean()
            : throw new FieldException($"'{name}' is required and must be true or false.");

    private sealed class FieldException(string message) : Exception(message);
}

internal sealed record MessageFrame(string Content, string? MessageId, string? Mode, string? Skill) : ClientFrame;

internal sealed record PingFrame(JsonElement? Nonce) : ClientFrame;

internal sealed record CancelFrame(string? RunId) : ClientFrame;

internal sealed record ConfirmationReplyFrame(string RequestId, bool Approved, string? Reason) : ClientFrame;

internal sealed record ReplyFrame(string RequestId, string Content) : ClientFrame;

/// <summary>A frame that broke the protocol, with the error to answer it.</summary>
internal sealed record InvalidFrame(string Code, string Message) : ClientFrame;
