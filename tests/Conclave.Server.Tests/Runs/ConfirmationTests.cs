using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Runs;

public sealed class ConfirmationTests
{
    private const string WriteFile = "use tool write_file {\"path\": \"notes/a.txt\", \"content\": \"hello\"}";

    [Fact]
    public async Task ApprovedToolRunsAfterTheReply()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        var file = Path.Combine(server.DataDir, "workspaces", session, "notes", "a.txt");

        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        Assert.False(File.Exists(file));
        Assert.Equal("write_file", request.Str("tool"));
        Assert.Equal("notes/a.txt", request.GetProperty("arguments").Str("path"));
        Assert.False(string.IsNullOrEmpty(request.Str("reason")));
        Assert.True(DateTime.Parse(request.Str("expires_at")!, null, System.Globalization.DateTimeStyles.RoundtripKind) > DateTime.UtcNow);

        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        var result = Assert.Single(frames, f => f.Type() == "confirmation_result");
        Assert.True(result.GetProperty("approved").GetBoolean());
        Assert.Equal("user", result.Str("by"));
        Assert.Equal("hello", await File.ReadAllTextAsync(file));
        Assert.StartsWith("Tool write_file returned:", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeniedToolIsNotRunAndTheModelIsTold()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = false, reason = "not now" });
        var frames = await socket.ReceiveRunEndAsync();

        var result = Assert.Single(frames, f => f.Type() == "confirmation_result");
        Assert.False(result.GetProperty("approved").GetBoolean());
        Assert.Equal("not now", result.Str("reason"));
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "workspaces", session, "notes")));
        var end = Assert.Single(frames, f => f.Type() == "step" && f.Str("phase") == "end");
        Assert.Contains("denied", end.Str("error"), StringComparison.Ordinal);
        Assert.StartsWith("Tool write_file was not run:", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.Contains("not now", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExpiredConfirmationIsDeniedByTimeoutAndTheRunGoesOn()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Confirmation:TimeoutSeconds"] = "1",
        });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync(WriteFile);

        var result = Assert.Single(frames, f => f.Type() == "confirmation_result");
        Assert.False(result.GetProperty("approved").GetBoolean());
        Assert.Equal("timeout", result.Str("by"));
        Assert.Equal("final_answer", frames[^1].Type());
        Assert.StartsWith("Tool write_file was not run:", frames[^1].Str("content"), StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "workspaces", session, "notes")));
    }

    [Fact]
    public async Task WithTheTimeoutOffAConfirmationHasNoExpiryAndWaitsForItsAnswer()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?>
        {
            ["Conclave:Confirmation:TimeoutSeconds"] = "0",
        });
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);
        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");

        await Task.Delay(TimeSpan.FromSeconds(1.5)); // past the shortest timeout there is otherwise
        await using var later = await server.ConnectAsync(session);
        await later.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var frames = await socket.ReceiveRunEndAsync();

        Assert.False(request.TryGetProperty("expires_at", out _));
        Assert.Equal(request.Str("request_id"), Assert.Single(later.Connected.GetProperty("pending").EnumerateArray()).Str("request_id"));
        Assert.Equal("user", Assert.Single(frames, f => f.Type() == "confirmation_result").Str("by"));
        Assert.StartsWith("Tool write_file returned:", frames[^1].Str("content"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnsweredConfirmationCannotBeAnsweredAgain()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        await socket.SendAsync(new { type = "message", content = WriteFile });
        var request = await socket.ReceiveTypeAsync("confirmation_request");
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        await socket.ReceiveRunEndAsync();
        await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
        var error = await socket.ReceiveAsync();

        Assert.Equal("unknown_request", error.Str("code"));
    }
}
