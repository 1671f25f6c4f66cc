using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Conclave.Server.Tests.Mcp;

/// <summary>
/// An MCP server of the official SDK on Kestrel, in the test process, for the failures the reference servers do not
/// make: a call that hangs, one that returns too much, a server that goes away mid-call and comes back, a tool list
/// that changes. It keeps its port across a stop and a start.
/// </summary>
internal sealed class FakeMcpServer : IAsyncDisposable
{
    private WebApplication? _app;

    private FakeMcpServer(int port)
    {
        Port = port;
        Tools.Add(McpServerTool.Create((string text) => $"echo: {text}", new McpServerToolCreateOptions { Name = "echo", ReadOnly = true }));
        Tools.Add(McpServerTool.Create((int bytes) => new string('x', bytes), new McpServerToolCreateOptions { Name = "huge", ReadOnly = true }));
        Tools.Add(McpServerTool.Create(HangAsync, new McpServerToolCreateOptions { Name = "hang", ReadOnly = true }));
    }

    public int Port { get; }

    public Uri Endpoint => new($"http://127.0.0.1:{Port}/mcp");

    /// <summary>The server's tools: a change is announced to connected clients (tools/list_changed).</summary>
    public McpServerPrimitiveCollection<McpServerTool> Tools { get; } = new();

    /// <summary>Completes when a call of <c>hang</c> has started.</summary>
    public TaskCompletionSource HangStarted { get; private set; } = NewSignal();

    /// <summary>Completes when a call of <c>hang</c> was cancelled.</summary>
    public TaskCompletionSource HangCancelled { get; } = NewSignal();

    /// <summary>The <c>X-Token</c> header of every request the server took.</summary>
    public ConcurrentQueue<string> Tokens { get; } = new();

    public static async Task<FakeMcpServer> StartAsync()
    {
        var server = new FakeMcpServer(McpTestServers.FreePort());
        await server.StartAgainAsync();
        return server;
    }

    /// <summary>Starts serving (again) on the same port.</summary>
    public async Task StartAgainAsync()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing" });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{Port}");
        builder.Services.AddMcpServer(o => o.ToolCollection = Tools).WithHttpTransport(o => o.SessionMode = HttpServerSessionMode.Stateful);
        var app = builder.Build();
        app.Use(async (context, next) =>
        {
            Tokens.Enqueue(context.Request.Headers["X-Token"].ToString());
            await next(context);
        });
        app.MapMcp("/mcp");
        await app.StartAsync();
        _app = app;
        HangStarted = NewSignal();
    }

    /// <summary>Goes away at once, as a crashed server does: open connections are cut.</summary>
    public async Task StopAsync()
    {
        if (_app is { } app)
        {
            _app = null;
            await app.StopAsync(new CancellationToken(canceled: true));
            await app.DisposeAsync();
        }
    }

    public ValueTask DisposeAsync() => new(StopAsync());

    private async Task<string> HangAsync(CancellationToken cancellationToken)
    {
        HangStarted.TrySetResult();
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            HangCancelled.TrySetResult();
            throw;
        }

        return "never";
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
