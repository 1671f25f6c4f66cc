using System.Globalization;
using System.Text;
using System.Text.Json;
using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>
/// An MCP server's request for input (elicitation) as an <c>ask_human</c> question, and the person's reply as the
/// server's answer. A form of one field takes the reply as that field's value (a choice of options where the field is
/// one); a form of several takes a JSON object; a URL request asks the person to open the address. Replying
/// <c>decline</c> or <c>cancel</c> answers so.
/// </summary>
internal static class McpElicitation
{
    public const string Decline = "decline";
    public const string Cancel = "cancel";
    private const string Accept = "accept";

    /// <summary>The question and its suggested answers.</summary>
    public static (string Question, IReadOnlyList<string>? Options) Question(string server, ElicitRequestParams request)
    {
        var question = new StringBuilder($"The MCP server '{server}' asks: {request.Message}");
        if (request.Mode == "url")
        {
            question.Append($"\nOpen {request.Url} and reply 'done' when you have finished there, or '{Decline}'.");
            return (question.ToString(), ["done", Decline]);
        }

        var fields = request.RequestedSchema?.Properties ?? new Dictionary<string, ElicitRequestParams.PrimitiveSchemaDefinition>();
        switch (fields.Count)
        {
            case 0:
                return (question.ToString(), [Accept, Decline]);
            case 1:
                var (name, field) = fields.First();
                if (field.Description is { Length: > 0 } description)
                {
                    question.Append($"\n{name}: {description}");
                }

                return (question.ToString(), ChoicesOf(field));
            default:
                question.Append("\nReply with a JSON object of these fields:");
                var required = request.RequestedSchema?.Required ?? [];
                foreach (var (fieldName, definition) in fields)
                {
                    question.Append($"\n- {fieldName} ({definition.Type}{(required.Contains(fieldName) ? ", required" : "")})");
                    if (definition.Description is { Length: > 0 } fieldDescription)
                    {
                        question.Append($": {fieldDescription}");
                    }

                    if (ChoicesOf(definition) is { } choices)
                    {
                        question.Append($" one of {string.Join(", ", choices)}");
                    }
                }

                return (question.ToString(), null);
        }
    }

    /// <summary>The server's answer to <paramref name="request"/> from the person's <paramref name="reply"/>.</summary>
    public static ElicitResult Result(ElicitRequestParams request, string reply)
    {
        var text = reply.Trim();
        if (text.Equals(Decline, StringComparison.OrdinalIgnoreCase) || text.Equals(Cancel, StringComparison.OrdinalIgnoreCase))
        {
            return new ElicitResult { Action = text.ToLowerInvariant() };
        }

        var fields = request.RequestedSchema?.Properties;
        if (request.Mode == "url" || fields is null || fields.Count == 0)
        {
            return new ElicitResult { Action = Accept };
        }

        if (fields.Count == 1)
        {
            var (name, field) = fields.First();
            return Value(field, text) is { } value
                ? new ElicitResult { Action = Accept, Content = new Dictionary<string, JsonElement> { [name] = value } }
                : new ElicitResult { Action = Cancel };
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                return new ElicitResult { Action = Cancel };
            }

            var content = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (fields.ContainsKey(property.Name))
                {
                    content[property.Name] = property.Value.Clone();
                }
            }

            return new ElicitResult { Action = Accept, Content = content };
        }
        catch (JsonException)
        {
            return new ElicitResult { Action = Cancel };
        }
    }

    private static IReadOnlyList<string>? ChoicesOf(ElicitRequestParams.PrimitiveSchemaDefinition field) => field switch
    {
        ElicitRequestParams.BooleanSchema => ["yes", "no"],
        ElicitRequestParams.UntitledSingleSelectEnumSchema e => [.. e.Enum],
        ElicitRequestParams.TitledSingleSelectEnumSchema e => [.. e.OneOf.Select(o => o.Const)],
        _ => null,
    };

    /// <summary>The reply as the field's value; null when it is not one.</summary>
    private static JsonElement? Value(ElicitRequestParams.PrimitiveSchemaDefinition field, string text) => field switch
    {
        ElicitRequestParams.BooleanSchema => text.ToLowerInvariant() switch
        {
            "yes" or "true" or "y" => JsonSerializer.SerializeToElement(true),
            "no" or "false" or "n" => JsonSerializer.SerializeToElement(false),
            _ => null,
        },
        ElicitRequestParams.NumberSchema { Type: "integer" } => long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var integer)
            ? JsonSerializer.SerializeToElement(integer)
            : null,
        ElicitRequestParams.NumberSchema => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number)
            ? JsonSerializer.SerializeToElement(number)
            : null,
        ElicitRequestParams.UntitledMultiSelectEnumSchema or ElicitRequestParams.TitledMultiSelectEnumSchema =>
            JsonSerializer.SerializeToElement(text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)),
        _ => ChoicesOf(field) is { } choices && !choices.Contains(text) ? null : JsonSerializer.SerializeToElement(text),
    };
}
