using System.Collections.Concurrent;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>One scripted answer of a provider: a status, headers, and body chunks written and flushed one by one.</summary>
internal sealed record ReplayResponse(int Status, string ContentType, IReadOnlyList<string> Chunks)
{
    public IDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();

    /// <summary>Pause before each chunk.</summary>
    public TimeSpan ChunkDelay { get; init; } = TimeSpan.FromMilliseconds(5);

    /// <summary>After the chunks, drop the connection instead of ending the response.</summary>
    public bool BreakAfterChunks { get; init; }

    /// <summary>After the chunks, keep the connection open and silent until the client goes away.</summary>
    public bool HangAfterChunks { get; init; }
}

/// <summary>A request the replay server received.</summary>
internal sealed class ReplayRequest
{
    public required string Path { get; init; }

    public required string Body { get; init; }

    public required IHeaderDictionary Headers { get; init; }

    public DateTime ReceivedAt { get; init; }

    /// <summary>Completes when the client aborted the request (not when it ended normally).</summary>
    public TaskCompletionSource<DateTime> Aborted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>
/// A model provider's HTTP API replayed on loopback Kestrel: each request gets the next scripted answer,
/// written in the provider's documented wire format (SSE or NDJSON), so the real provider clients run unchanged.
/// </summary>
internal sealed class ReplayServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReplayResponse> _script;

    private ReplayServer(WebApplication app, ConcurrentQueue<ReplayResponse> script, Uri baseUri)
    {
        _app = app;
        _script = script;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    public ConcurrentQueue<ReplayRequest> Requests { get; } = new();

    public static async Task<ReplayServer> StartAsync(params ReplayResponse[] script)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var queue = new ConcurrentQueue<ReplayResponse>(script);
        var app = builder.Build();
        ReplayServer? server = null;
        app.Run(context => server!.HandleAsync(context));
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.First();
        server = new ReplayServer(app, queue, new Uri(address));
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task HandleAsync(HttpContext context)
    {
        using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
        var request = new ReplayRequest
        {
            Path = context.Request.Path + context.Request.QueryString,
            Body = await reader.ReadToEndAsync(),
            // A copy: Kestrel reuses the request's own headers once the response is done.
            Headers = new HeaderDictionary(context.Request.Headers.ToDictionary(h => h.Key, h => h.Value, StringComparer.OrdinalIgnoreCase)),
            ReceivedAt = DateTime.UtcNow,
        };
        Requests.Enqueue(request);
        var aborted = context.RequestAborted;
        using var registration = aborted.Register(() => request.Aborted.TrySetResult(DateTime.UtcNow));
        if (!_script.TryDequeue(out var response))
        {
            context.Response.StatusCode = 599;
            return;
        }

        context.Response.StatusCode = response.Status;
        context.Response.ContentType = response.ContentType;
        foreach (var (name, value) in response.Headers)
        {
            context.Response.Headers[name] = value;
        }

        try
        {
            await context.Response.StartAsync(aborted);
            foreach (var chunk in response.Chunks)
            {
                await Task.Delay(response.ChunkDelay, aborted);
                await context.Response.WriteAsync(chunk, aborted);
                await context.Response.Body.FlushAsync(aborted);
            }

            if (response.BreakAfterChunks)
            {
                // Give the client time to read what was sent: a reset can discard data not read yet.
                await Task.Delay(300, aborted);
                context.Abort();
            }
            else if (response.HangAfterChunks)
            {
                await Task.Delay(Timeout.Infinite, aborted);
            }
        }
        catch (OperationCanceledException)
        {
            // The client went away.
        }
    }
}
