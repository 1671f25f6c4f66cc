using System.Text;
using System.Text.Json;
using Conclave.Agents.Tools;
using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>What the model and the <c>step</c> event are given of an MCP tool's result.</summary>
internal static class McpResults
{
    /// <summary>
    /// The result of a call that succeeded: its structured content when it has some (a JSON value), else the text of its
    /// content blocks; either cut to <paramref name="maxBytes"/> of UTF-8, with a note of the cut.
    /// </summary>
    public static object ToResult(CallToolResult result, int maxBytes)
    {
        if (result.StructuredContent is { } structured)
        {
            var json = structured.GetRawText();
            return Encoding.UTF8.GetByteCount(json) <= maxBytes ? structured : Cut(json, maxBytes);
        }

        return Cut(Text(result), maxBytes);
    }

    /// <summary>The text of a result's content blocks, one after another; what is not text is described in words.</summary>
    public static string Text(CallToolResult result)
    {
        var text = new StringBuilder();
        foreach (var block in result.Content)
        {
            if (text.Length > 0)
            {
                text.Append('\n');
            }

            text.Append(block switch
            {
                TextContentBlock t => t.Text,
                ImageContentBlock image => $"[an image, {image.MimeType}]",
                AudioContentBlock audio => $"[audio, {audio.MimeType}]",
                EmbeddedResourceBlock { Resource: TextResourceContents resource } => resource.Text,
                EmbeddedResourceBlock { Resource: var resource } => $"[a resource, {resource.Uri} ({resource.MimeType})]",
                ResourceLinkBlock link => $"[a link to the resource {link.Uri}{(link.Name is { Length: > 0 } name ? $" ({name})" : "")}]",
                _ => $"[content of type {block.Type}]",
            });
        }

        return text.ToString();
    }

    /// <summary><paramref name="text"/> within <paramref name="maxBytes"/> of UTF-8, with a note when it was cut.</summary>
    public static string Cut(string text, int maxBytes)
    {
        var bytes = Encoding.UTF8.GetByteCount(text);
        if (bytes <= maxBytes)
        {
            return text;
        }

        var encoded = Encoding.UTF8.GetBytes(text);
        return $"{Utf8Text.DecodeCut(encoded.AsSpan(0, maxBytes))}\n[output cut: the first {maxBytes} of {bytes} bytes]";
    }

    /// <summary>The error a call's result reports, for a <see cref="ToolException"/>.</summary>
    public static string Error(CallToolResult result, int maxBytes) =>
        Cut(Text(result) is { Length: > 0 } text ? text : "the tool reported an error without saying what it was", maxBytes);

    /// <summary>A tool's input schema as a JSON object the model can read (an empty object schema when the server gave none).</summary>
    public static JsonElement Schema(JsonElement inputSchema) =>
        inputSchema.ValueKind == JsonValueKind.Object ? inputSchema : EmptySchema;

    private static readonly JsonElement EmptySchema = JsonDocument.Parse("""{"type":"object","properties":{}}""").RootElement;
}
