using System.Net.Http.Json;
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using Conclave.Agents.Events;
using Conclave.Server.Chat;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Chat;

/// <summary>Keeps docs/asyncapi.json true to the frames the server sends and takes.</summary>
public sealed class AsyncApiDocumentTests
{
    private static readonly JsonElement Document = LoadDocument();

    [Fact]
    public void ServerMessagesAreExactlyTheFrameTypesTheServerCanSend()
    {
        var derived = typeof(AgentEvent).GetCustomAttributes<JsonDerivedTypeAttribute>().ToList();
        var concreteEvents = typeof(AgentEvent).Assembly.GetTypes().Where(t => t.IsSubclassOf(typeof(AgentEvent)) && !t.IsAbstract);
        Assert.Equal(
            concreteEvents.Select(t => t.FullName).Order(),
            derived.Select(d => d.DerivedType.FullName).Order());

        // The frames only the socket layer sends: each record's Type getter returns a constant.
        var socketFrames = typeof(ServerFramesJsonContext).GetCustomAttributesData()
            .Where(a => a.AttributeType == typeof(JsonSerializableAttribute))
            .Select(a => (Type)a.ConstructorArguments[0].Value!)
            .Select(t => (string)t.GetProperty("Type")!.GetValue(RuntimeHelpers.GetUninitializedObject(t))!);
        var sent = derived.Select(d => (string)d.TypeDiscriminator!).Concat(socketFrames).ToHashSet();

        Assert.Equal(17, sent.Count);
        Assert.Equal(sent.Order(), MessageTypes("sendServerFrames").Order());
    }

    [Fact]
    public async Task EveryClientMessageIsAFrameTypeTheServerTakes()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        // Known types answer with something other than unknown_type (a pong, or an error about their fields);
        // the control frame shows what an unknown type gets.
        var codes = new Dictionary<string, string?>();
        foreach (var type in MessageTypes("receiveClientFrames").Append("not_a_frame_type"))
        {
            await socket.SendAsync(new { type });
            var answer = await socket.ReceiveAsync();
            codes[type] = answer.Str("code") ?? answer.Type();
        }

        Assert.Equal(["cancel", "confirmation_reply", "message", "ping", "reply"], MessageTypes("receiveClientFrames").Order());
        Assert.All(codes.Where(c => c.Key != "not_a_frame_type"), c => Assert.NotEqual("unknown_type", c.Value));
        Assert.Equal("unknown_type", codes["not_a_frame_type"]);
    }

    [Fact]
    public async Task RealFramesOfEveryKindOfRunMatchTheirDocumentedPayloads()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using (var skill = await server.Http.PostAsJsonAsync("/api/v1/skills", new { name = "haiku-poet", keywords = new[] { "haiku" }, instructions = "Answer in haiku." }))
        {
            skill.EnsureSuccessStatusCode();
        }

        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        await socket.ChatAsync("stream 5 words");
        await socket.ChatAsync("2+3");
        await socket.ChatAsync("write a haiku");

        await socket.SendAsync(new { type = "message", content = """use tool write_file {"path": "a.txt", "content": "x"}""" });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true, reason = "fine" });
        await socket.ReceiveRunEndAsync();

        await socket.SendAsync(new { type = "message", content = "ask me: your name?" });
        var question = await socket.ReceiveTypeAsync("ask_human");
        await socket.SendAsync(new { type = "reply", request_id = question.Str("request_id"), content = "Ada" });
        await socket.ReceiveRunEndAsync();

        await socket.ChatAsync("/team stream 3 words", TimeSpan.FromSeconds(60));

        // A run stopped while it waits: a second socket sees the request in connected.pending; the run ends with an error.
        await socket.SendAsync(new { type = "message", content = """use tool write_file {"path": "b.txt", "content": "y"}""" });
        await socket.ReceiveTypeAsync("confirmation_request");
        await using (var second = await server.ConnectAsync(session))
        {
            Assert.Single(second.Connected.GetProperty("pending").EnumerateArray());
        }

        await socket.SendAsync(new { type = "cancel" });
        await socket.ReceiveRunEndAsync();

        await socket.SendTextAsync("not json");
        await socket.ReceiveAsync();
        await socket.SendAsync(new { type = "ping", nonce = new { n = 1 } });
        await socket.ReceiveAsync();

        var frames = socket.Received.Append(socket.Connected).ToList();
        var problems = frames.SelectMany(frame => Check(frame, PayloadOf(frame.Type()!), frame.Type()!)).Distinct().ToList();

        Assert.Empty(problems);
        Assert.Equal(MessageTypes("sendServerFrames").Order(), frames.Select(f => f.Type()!).Distinct().Order());
    }

    [Fact]
    public void EveryExampleMatchesItsOwnPayload()
    {
        var problems = new List<string>();
        foreach (var message in Document.GetProperty("components").GetProperty("messages").EnumerateObject())
        {
            var payload = Resolve(message.Value.GetProperty("payload"));
            Assert.True(message.Value.TryGetProperty("examples", out var examples), $"{message.Name} has no example");
            foreach (var example in examples.EnumerateArray())
            {
                problems.AddRange(Check(example.GetProperty("payload"), payload, $"{message.Name} example"));
            }
        }

        Assert.Empty(problems);
    }

    private static List<string> MessageTypes(string operation) =>
        [.. Document.GetProperty("operations").GetProperty(operation).GetProperty("messages").EnumerateArray()
            .Select(m => Resolve(Resolve(m).GetProperty("payload")).GetProperty("properties").GetProperty("type").GetProperty("const").GetString()!)];

    private static JsonElement PayloadOf(string type) =>
        MessageTypes("sendServerFrames").IndexOf(type) is var index and >= 0
            ? Resolve(Resolve(Document.GetProperty("operations").GetProperty("sendServerFrames").GetProperty("messages")[index]).GetProperty("payload"))
            : throw new InvalidOperationException($"The document has no server message '{type}'.");

    /// <summary>Checks a value against the parts of JSON Schema the document uses; returns what does not match.</summary>
    private static IEnumerable<string> Check(JsonElement value, JsonElement schema, string path)
    {
        schema = Resolve(schema);
        if (schema.TryGetProperty("oneOf", out var oneOf))
        {
            var alternatives = oneOf.EnumerateArray().Select(s => Check(value, s, path).ToList()).ToList();
            return alternatives.Any(a => a.Count == 0) ? [] : alternatives.SelectMany(a => a);
        }

        var problems = new List<string>();
        if (schema.TryGetProperty("type", out var type)
            && !(type.ValueKind == JsonValueKind.Array ? type.EnumerateArray().Any(t => IsOfType(value, t.GetString()!)) : IsOfType(value, type.GetString()!)))
        {
            problems.Add($"{path}: {value.ValueKind} is not {type}");
        }

        if (schema.TryGetProperty("const", out var constant) && !JsonElement.DeepEquals(value, constant))
        {
            problems.Add($"{path}: {value} is not {constant}");
        }

        if (schema.TryGetProperty("enum", out var allowed) && !allowed.EnumerateArray().Any(a => JsonElement.DeepEquals(a, value)))
        {
            problems.Add($"{path}: {value} is not one of {allowed}");
        }

        if (value.ValueKind == JsonValueKind.Object && schema.TryGetProperty("properties", out var properties))
        {
            if (schema.TryGetProperty("required", out var required))
            {
                problems.AddRange(required.EnumerateArray().Select(r => r.GetString()!)
                    .Where(r => !value.TryGetProperty(r, out _)).Select(r => $"{path}: the required field '{r}' is missing"));
            }

            foreach (var field in value.EnumerateObject())
            {
                problems.AddRange(properties.TryGetProperty(field.Name, out var fieldSchema)
                    ? Check(field.Value, fieldSchema, $"{path}.{field.Name}")
                    : [$"{path}: the field '{field.Name}' is not documented"]);
            }
        }

        if (value.ValueKind == JsonValueKind.Array && schema.TryGetProperty("items", out var items))
        {
            problems.AddRange(value.EnumerateArray().SelectMany((item, i) => Check(item, items, $"{path}[{i}]")));
        }

        return problems;
    }

    private static bool IsOfType(JsonElement value, string type) => type switch
    {
        "object" => value.ValueKind == JsonValueKind.Object,
        "array" => value.ValueKind == JsonValueKind.Array,
        "string" => value.ValueKind == JsonValueKind.String,
        "integer" => value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out _),
        "number" => value.ValueKind == JsonValueKind.Number,
        "boolean" => value.ValueKind is JsonValueKind.True or JsonValueKind.False,
        "null" => value.ValueKind == JsonValueKind.Null,
        _ => throw new InvalidOperationException($"Unknown schema type '{type}'."),
    };

    /// <summary>Follows a local <c>$ref</c> (<c>#/a/b/c</c>) within the document.</summary>
    private static JsonElement Resolve(JsonElement node)
    {
        while (node.ValueKind == JsonValueKind.Object && node.TryGetProperty("$ref", out var reference))
        {
            node = Document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/'))
            {
                node = node.GetProperty(part);
            }
        }

        return node;
    }

    private static JsonElement LoadDocument()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder.FullName, "Conclave.slnx")))
        {
            folder = folder.Parent ?? throw new InvalidOperationException("No Conclave.slnx above the test's folder.");
        }

        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.FullName, "docs", "asyncapi.json")));
        return document.RootElement.Clone();
    }
}
