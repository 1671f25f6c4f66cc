using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Logging;

/// <summary>What an operator reads in the log: a line per socket, run and confirmation; user content only at Trace; a quiet shutdown.</summary>
public sealed class OperatorLogTests
{
    private const string UserText = "the-users-own-words-4711";

    [Fact]
    public async Task SocketsRunsAndConfirmationsHaveOneLineEachAndUserContentStaysAtTrace()
    {
        await using var server = await ConclaveTestServer.StartAsync(new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Trace" });
        var session = await server.CreateSessionAsync();
        string requestId;
        await using (var socket = await server.ConnectAsync(session))
        {
            await socket.SendAsync(new { type = "message", content = $"use tool write_file {{\"path\": \"a.txt\", \"content\": \"{UserText}\"}}" });
            var request = await socket.ReceiveTypeAsync("confirmation_request");
            requestId = request.Str("request_id")!;
            await socket.SendAsync(new { type = "confirmation_reply", request_id = request.Str("request_id"), approved = true });
            await socket.ReceiveRunEndAsync();
        }

        var lines = server.Logs.Lines.ToList();
        var deadline = DateTime.UtcNow.AddSeconds(10);
        // The run's end line follows its last event, and the socket's close line follows the close: both are waited for.
        while (!(lines.Any(l => l.Contains("Chat socket closed", StringComparison.Ordinal)) && lines.Any(l => l.Contains(" ended ", StringComparison.Ordinal)))
            && DateTime.UtcNow < deadline)
        {
            await Task.Delay(50);
            lines = server.Logs.Lines.ToList();
        }

        Assert.Single(lines, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains($"Chat socket opened on session {session} (tenant admin)", StringComparison.Ordinal));
        Assert.Single(lines, l => l.StartsWith("Information", StringComparison.Ordinal) && l.Contains($"Chat socket closed on session {session}", StringComparison.Ordinal) && l.Contains(" s open; close status 1000", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Contains("responded 101", StringComparison.Ordinal));
        var started = Assert.Single(lines, l => l.Contains("started: session " + session, StringComparison.Ordinal));
        Assert.Contains("tenant admin, model builtin/builtin", started, StringComparison.Ordinal);
        var ended = Assert.Single(lines, l => l.Contains(" ended completed after ", StringComparison.Ordinal));
        Assert.Matches(@"model builtin/builtin, [1-9]\d* input and [1-9]\d* output tokens", ended);
        Assert.Single(lines, l => l.Contains($"Confirmation {requestId} of run", StringComparison.Ordinal) && l.Contains("asks to run write_file", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains($"Confirmation {requestId} of run", StringComparison.Ordinal) && l.Contains("approved by the user", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => !l.StartsWith("Trace", StringComparison.Ordinal) && l.Contains(UserText, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ANormalShutdownLogsNoWarningAndNoStackTraceEvenWithARunStreaming()
    {
        using var temp = new TempDataDir();
        await using var process = await ServerProcess.StartAsync(temp.Path, new Dictionary<string, string>
        {
            ["Conclave__Auth__AdminKey"] = ConclaveTestServer.AdminKey,
            ["Conclave__Shutdown__DrainSeconds"] = "1",
        });
        var (socket, _) = await process.OpenSessionAsync();
        await using (socket)
        {
            await socket.SendAsync(new { type = "message", content = "stream 100000 words" });
            await socket.ReceiveTypeAsync("token");
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
        }

        Assert.Equal(0, process.ExitCode);
        Assert.Contains("ended with error internal", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("warn:", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("fail:", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Exception", process.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", process.Output, StringComparison.Ordinal);
    }
}
