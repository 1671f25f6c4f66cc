using System.Globalization;
using System.Text.Json;
using Conclave.Agents.Events;

namespace Conclave.Agents.Tests.Events;

public sealed class SessionEventLogSealTests
{
    private static readonly DateTime Ts = new(2025, 3, 4, 5, 6, 7, 890, DateTimeKind.Utc);

    [Fact]
    public void SealStampsTheStoredEvent()
    {
        var stored = SessionEventLog.Seal(new TokenEvent("hi"), "sess_1", 42, "run_7", Ts);

        Assert.Equal("sess_1", stored.SessionId);
        Assert.Equal(42, stored.EventId);
        Assert.Equal("run_7", stored.RunId);
        Assert.Equal("token", stored.Type);
        Assert.Equal(Ts, Json(stored).GetProperty("ts").GetDateTime());
        Assert.False(stored.IsTerminal);
    }

    [Fact]
    public void AStepStartIsWrittenInSnakeCaseWithItsEnvelopeAndWithoutResultOrError()
    {
        using var arguments = JsonDocument.Parse("""{"expression":"1+1"}""");
        var step = new StepEvent(1, StepEvent.Start, "calculator", arguments.RootElement);

        var json = Json(SessionEventLog.Seal(step, "sess_1", 5, "run_1", Ts));

        Assert.Equal(
            ["type", "event_id", "ts", "run_id", "step", "phase", "tool", "arguments"],
            json.EnumerateObject().Select(p => p.Name));
        Assert.Equal("step", json.GetProperty("type").GetString());
        Assert.Equal(5, json.GetProperty("event_id").GetInt64());
        Assert.Equal("run_1", json.GetProperty("run_id").GetString());
        Assert.Equal(1, json.GetProperty("step").GetInt32());
        Assert.Equal("start", json.GetProperty("phase").GetString());
        Assert.Equal("calculator", json.GetProperty("tool").GetString());
        Assert.Equal("1+1", json.GetProperty("arguments").GetProperty("expression").GetString());
    }

    [Fact]
    public void AStepEndCarriesItsResultOrError()
    {
        using var arguments = JsonDocument.Parse("{}");
        using var result = JsonDocument.Parse("\"84\"");

        var ran = Json(SessionEventLog.Seal(
            new StepEvent(1, StepEvent.End, "calculator", arguments.RootElement) { Result = result.RootElement }, "s", 6, "r", Ts));
        var failed = Json(SessionEventLog.Seal(
            new StepEvent(2, StepEvent.End, "write_file", arguments.RootElement) { Error = "denied" }, "s", 7, "r", Ts));

        Assert.Equal("84", ran.GetProperty("result").GetString());
        Assert.False(ran.TryGetProperty("error", out _));
        Assert.Equal("denied", failed.GetProperty("error").GetString());
        Assert.False(failed.TryGetProperty("result", out _));
    }

    [Fact]
    public void TsIsIso8601InUtcEndingInZ()
    {
        var json = Json(SessionEventLog.Seal(new TokenEvent("hi"), "s", 1, "r", Ts));

        var ts = json.GetProperty("ts").GetString()!;
        Assert.Equal("2025-03-04T05:06:07.89Z", ts);
        var parsed = DateTime.Parse(ts, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
        Assert.Equal(DateTimeKind.Utc, parsed.Kind);
        Assert.Equal(Ts, parsed);
    }

    [Fact]
    public void TypeAppearsOnceAndFirst()
    {
        var stored = SessionEventLog.Seal(new FinalAnswerEvent("done", new Usage(3, 4), "stop"), "s", 1, "r", Ts);

        var reader = new Utf8JsonReader(stored.Utf8Json.Span);
        var topLevelNames = new List<string>();
        while (reader.Read())
        {
            if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
            {
                topLevelNames.Add(reader.GetString()!);
            }
        }

        Assert.Equal("type", topLevelNames[0]);
        Assert.Single(topLevelNames, n => n == "type");
    }

    [Fact]
    public void NestedRecordsAndMultiWordNamesAreSnakeCase()
    {
        var stored = SessionEventLog.Seal(new FinalAnswerEvent("done", new Usage(3, 4), "stop"), "s", 9, "r", Ts);
        var json = Json(stored);

        Assert.Equal("final_answer", json.GetProperty("type").GetString());
        Assert.Equal("stop", json.GetProperty("finish_reason").GetString());
        Assert.Equal(3, json.GetProperty("usage").GetProperty("input_tokens").GetInt64());
        Assert.Equal(4, json.GetProperty("usage").GetProperty("output_tokens").GetInt64());
        Assert.True(stored.IsTerminal);
    }

    [Fact]
    public void OptionalFieldsAreLeftOutWhenNullAndWrittenWhenSet()
    {
        var without = Json(SessionEventLog.Seal(new AskHumanEvent("req_1", "Which?"), "s", 1, "r", Ts));
        var with = Json(SessionEventLog.Seal(new AskHumanEvent("req_2", "Which?") { Options = ["a", "b"] }, "s", 2, "r", Ts));
        var error = Json(SessionEventLog.Seal(new ErrorEvent(ErrorCodes.Cancelled, "stopped", false), "s", 3, "r", Ts));

        Assert.Equal(["type", "event_id", "ts", "run_id", "request_id", "question"], without.EnumerateObject().Select(p => p.Name));
        Assert.Equal(["a", "b"], with.GetProperty("options").EnumerateArray().Select(o => o.GetString()));
        Assert.False(error.TryGetProperty("usage", out _));
        Assert.False(error.GetProperty("retryable").GetBoolean());
    }

    [Fact]
    public void ConfirmationRequestsNameTheirFieldsInSnakeCase()
    {
        using var arguments = JsonDocument.Parse("""{"path":"a.txt"}""");
        var request = new ConfirmationRequestEvent("req_1", "write_file", arguments.RootElement, "writes a file", Ts.AddMinutes(5));

        var json = Json(SessionEventLog.Seal(request, "s", 1, "r", Ts));

        Assert.Equal("req_1", json.GetProperty("request_id").GetString());
        Assert.Equal("2025-03-04T05:11:07.89Z", json.GetProperty("expires_at").GetString());
    }

    [Fact]
    public void TextIsNotHtmlEscaped()
    {
        var stored = SessionEventLog.Seal(new TokenEvent("<b>\"Tom & Jerry's\"</b>"), "s", 1, "r", Ts);

        var raw = System.Text.Encoding.UTF8.GetString(stored.Utf8Json.Span);
        Assert.Contains("""<b>\"Tom & Jerry's\"</b>""", raw, StringComparison.Ordinal);
        Assert.Equal("<b>\"Tom & Jerry's\"</b>", Json(stored).GetProperty("content").GetString());
    }

    [Theory]
    [InlineData("word")]
    [InlineData(" wörd ✓ 🚀 日本")]
    [InlineData("<b>\"Tom & Jerry's\"</b> \\ / \n\t\r \u0001 \u007f \u2028")]
    [InlineData("\ud800 lone surrogate")]
    [InlineData("")]
    public void TokensAndThinkingAreWrittenByteForByteAsTheSerializerWritesThem(string content)
    {
        foreach (var runId in new[] { "run_1", null })
        {
            // Each delta as an event object and as the model's text alone (how a run appends them).
            foreach (var (delta, text) in new (AgentEvent, PendingEvent)[]
            {
                (new TokenEvent(content), PendingEvent.Token(content)),
                (new ThinkingEvent(content), PendingEvent.Thinking(content)),
            })
            {
                var sealedJson = SessionEventLog.Seal(delta, "s", 123_456_789_012, runId!, Ts.AddTicks(1234567));
                var sealedText = SessionEventLog.Seal(text, "s", 123_456_789_012, runId!, Ts.AddTicks(1234567));

                var serialized = JsonSerializer.SerializeToUtf8Bytes(delta, ProtocolJsonContext.Wire.AgentEvent);

                Assert.Equal(serialized, sealedJson.Utf8Json.ToArray());
                Assert.Equal(serialized, sealedText.Utf8Json.ToArray());
                Assert.Equal(delta.Type, sealedText.Type);
            }
        }
    }

    private static JsonElement Json(SessionEvent stored) => JsonDocument.Parse(stored.Utf8Json).RootElement.Clone();
}
