using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Conclave.Agents.Events;

/// <summary>
/// JSON may escape a lone surrogate (<c>"\ud800"</c>): valid JSON, but no text, and System.Text.Json throws when it
/// reads such a string or writes it back out. This finds such values in JSON from outside (clients, models) and
/// repairs them, each unpaired surrogate becoming U+FFFD, as the serializer does for a .NET string.
/// </summary>
public static class JsonText
{
    private const char Replacement = '\uFFFD';

    /// <summary>Whether every string and property name in <paramref name="element"/> is valid Unicode text.</summary>
    public static bool IsValid(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.String:
                return IsValidString(element);
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (!IsValid(item))
                    {
                        return false;
                    }
                }

                return true;
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    try
                    {
                        _ = property.Name;
                    }
                    catch (InvalidOperationException)
                    {
                        return false;
                    }

                    if (!IsValid(property.Value))
                    {
                        return false;
                    }
                }

                return true;
            default:
                return true;
        }
    }

    /// <summary><paramref name="element"/> with every unpaired surrogate in its strings and names replaced by U+FFFD.</summary>
    public static JsonElement Repair(JsonElement element)
    {
        if (IsValid(element))
        {
            return element;
        }

        var output = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(output))
        {
            WriteRepaired(Encoding.UTF8.GetBytes(element.GetRawText()), writer);
        }

        using var document = JsonDocument.Parse(output.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>
    /// Options like <paramref name="options"/> that write a <see cref="JsonElement"/> repaired (see <see cref="Repair"/>),
    /// for serializing values such as a model's tool arguments, which may hold elements parsed from its JSON.
    /// </summary>
    public static JsonSerializerOptions Repairing(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var repairing = new JsonSerializerOptions(options);
        repairing.Converters.Insert(0, new RepairingElementConverter());
        repairing.MakeReadOnly(populateMissingResolver: true);
        return repairing;
    }

    private static bool IsValidString(JsonElement element)
    {
        try
        {
            _ = element.GetString();
            return true;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    private static void WriteRepaired(ReadOnlySpan<byte> utf8, Utf8JsonWriter writer)
    {
        var reader = new Utf8JsonReader(utf8);
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                case JsonTokenType.StartObject:
                    writer.WriteStartObject();
                    break;
                case JsonTokenType.EndObject:
                    writer.WriteEndObject();
                    break;
                case JsonTokenType.StartArray:
                    writer.WriteStartArray();
                    break;
                case JsonTokenType.EndArray:
                    writer.WriteEndArray();
                    break;
                case JsonTokenType.PropertyName:
                    writer.WritePropertyName(RepairedString(ref reader));
                    break;
                case JsonTokenType.String:
                    writer.WriteStringValue(RepairedString(ref reader));
                    break;
                case JsonTokenType.Number:
                    writer.WriteRawValue(reader.ValueSpan, skipInputValidation: true);
                    break;
                case JsonTokenType.True or JsonTokenType.False:
                    writer.WriteBooleanValue(reader.GetBoolean());
                    break;
                case JsonTokenType.Null:
                    writer.WriteNullValue();
                    break;
            }
        }
    }

    /// <summary>The string or name the reader is on, unescaped by hand when it escapes a lone surrogate.</summary>
    private static string RepairedString(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString()!;
        }
        catch (InvalidOperationException)
        {
            return Unescape(reader.HasValueSequence ? reader.ValueSequence.ToArray() : reader.ValueSpan);
        }
    }

    // The reader has checked the escapes (a backslash is always followed by one of "\/bfnrtu, and \u by four hex digits).
    private static string Unescape(ReadOnlySpan<byte> raw)
    {
        var units = new StringBuilder(raw.Length);
        while (raw.Length > 0)
        {
            var backslash = raw.IndexOf((byte)'\\');
            if (backslash < 0)
            {
                units.Append(Encoding.UTF8.GetString(raw));
                break;
            }

            units.Append(Encoding.UTF8.GetString(raw[..backslash]));
            var escape = raw[backslash + 1];
            if (escape == (byte)'u')
            {
                units.Append((char)int.Parse(Encoding.ASCII.GetString(raw.Slice(backslash + 2, 4)), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                raw = raw[(backslash + 6)..];
                continue;
            }

            units.Append(escape switch
            {
                (byte)'b' => '\b',
                (byte)'f' => '\f',
                (byte)'n' => '\n',
                (byte)'r' => '\r',
                (byte)'t' => '\t',
                _ => (char)escape, // " \ /
            });
            raw = raw[(backslash + 2)..];
        }

        for (var i = 0; i < units.Length; i++)
        {
            if (char.IsHighSurrogate(units[i]) && i + 1 < units.Length && char.IsLowSurrogate(units[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(units[i]))
            {
                units[i] = Replacement;
            }
        }

        return units.ToString();
    }

    private sealed class RepairingElementConverter : JsonConverter<JsonElement>
    {
        public override JsonElement Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            JsonElement.ParseValue(ref reader);

        public override void Write(Utf8JsonWriter writer, JsonElement value, JsonSerializerOptions options) =>
            Repair(value).WriteTo(writer);
    }
}
