using System.Collections.Concurrent;
using Conclave.Agents.Runs;
using Conclave.Agents.Tools;
using Conclave.Storage;
using Microsoft.Extensions.Logging;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>A server could not be reached; its tools are left out until it is tried again.</summary>
internal sealed class McpUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>
/// One tenant's connection to one MCP server, shared by all of the tenant's runs: made at the first use, listed tools
/// kept until the server says they changed, made again after it broke, closed when idle. Calls have a time limit and
/// a cap on their output; a run's stop cancels its call (the SDK tells the server). A request of the server for input
/// goes to the run whose call it serves as an <c>ask_human</c>.
/// </summary>
internal sealed partial class McpConnection : IAsyncDisposable
{
    // The call this flow makes: the SDK resolves a server's input requests of the newer kind within the call's own flow.
    private static readonly AsyncLocal<InFlightCall?> CurrentCall = new();

    private readonly string _tenantId;
    private readonly McpServerRegistration _server;
    private readonly McpTransports _transports;
    private readonly McpOptions _options;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    // The tenant's connection to the server at the time of a call: this one, or the one made after it was closed.
    private readonly Func<Task<McpConnection>> _current;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<long, InFlightCall> _calls = new();
    private long _nextCall;
    private long _lastUsedTicks;
    private McpClient? _client;
    private IReadOnlyList<AgentTool>? _tools;
    private DateTimeOffset _retryAt;
    private string? _failure;

    public McpConnection(
        string tenantId,
        Stored<McpServerRegistration> server,
        McpTransports transports,
        McpOptions options,
        ILoggerFactory loggers,
        TimeProvider time,
        Func<Task<McpConnection>> current)
    {
        _current = current;
        _tenantId = tenantId;
        _server = server.Item;
        Version = server.UpdatedAt;
        _transports = transports;
        _options = options;
        _loggers = loggers;
        _logger = loggers.CreateLogger<McpConnection>();
        _time = time;
        Touch();
    }

    /// <summary>The server's name.</summary>
    public string Name => _server.Name;

    /// <summary>When the registration this connection was made from last changed.</summary>
    public DateTime Version { get; }

    /// <summary>Whether no call is in flight and none was made since <paramref name="cutoff"/>.</summary>
    public bool IsIdleSince(DateTimeOffset cutoff) => _calls.IsEmpty && new DateTimeOffset(Interlocked.Read(ref _lastUsedTicks), TimeSpan.Zero) < cutoff;

    /// <summary>The server's tools, namespaced and with their confirmation policy; listed again after the server's list changed.</summary>
    /// <exception cref="McpUnavailableException">The server could not be reached.</exception>
    public async Task<IReadOnlyList<AgentTool>> ToolsAsync(CancellationToken cancellationToken)
    {
        Touch();
        if (Volatile.Read(ref _tools) is { } known && _client is { Completion.IsCompleted: false })
        {
            return known;
        }

        await _connecting.WaitAsync(cancellationToken);
        try
        {
            var client = await ConnectedAsync(cancellationToken);
            if (Volatile.Read(ref _tools) is { } listed)
            {
                return listed;
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds));
            IList<McpClientTool> tools;
            try
            {
                tools = await client.ListToolsAsync(cancellationToken: timeout.Token);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                await ForgetClientAsync(client);
                throw Unavailable(ex, timeout.IsCancellationRequested);
            }

            var agentTools = tools.Select(t => ToAgentTool(t.ProtocolTool)).ToList();
            Volatile.Write(ref _tools, agentTools);
            return agentTools;
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>
    /// Calls the server's tool <paramref name="tool"/> for a run whose user <paramref name="human"/> is; its result as the
    /// model reads it. A failure the model should read is a <see cref="ToolException"/>; the run's stop cancels the call.
    /// </summary>
    public async Task<object?> CallAsync(string tool, IReadOnlyDictionary<string, object?> arguments, IHumanChannel human, CancellationToken cancellationToken)
    {
        Touch();
        McpClient client;
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            client = await ConnectedAsync(cancellationToken);
        }
        catch (McpUnavailableException ex)
        {
            throw new ToolException(ex.Message);
        }
        finally
        {
            _connecting.Release();
        }

        var call = new InFlightCall(human, cancellationToken);
        var id = Interlocked.Increment(ref _nextCall);
        _calls[id] = call;
        CurrentCall.Value = call;
        // The limit is on silence: a progress notification from the server starts it again, up to the hard limit.
        var limit = _server.TimeoutSeconds ?? _options.CallTimeoutSeconds;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(limit));
        using var hardLimit = CancellationTokenSource.CreateLinkedTokenSource(timeout.Token);
        hardLimit.CancelAfter(TimeSpan.FromSeconds(Math.Max(limit, _options.MaxCallSeconds)));
        var progress = new SignOfLife(timeout, TimeSpan.FromSeconds(limit));
        try
        {
            var result = await client.CallToolAsync(tool, arguments, progress, options: null, hardLimit.Token);
            return result.IsError == true
                ? throw new ToolException(McpResults.Error(result, _options.MaxOutputBytes))
                : McpResults.ToResult(result, _options.MaxOutputBytes);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            await CancelOnServerAsync(client, call, "the run was stopped");
            throw;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            await CancelOnServerAsync(client, call, "the call took too long");
            LogCallTimedOut(Name, tool, _tenantId, limit);
            throw new ToolException($"{SourcedToolName.Of(Name, tool)} went {limit} s without finishing or reporting progress, so the call was cancelled.");
        }
        catch (OperationCanceledException) when (hardLimit.IsCancellationRequested)
        {
            await CancelOnServerAsync(client, call, "the call took too long");
            LogCallTimedOut(Name, tool, _tenantId, _options.MaxCallSeconds);
            throw new ToolException($"{SourcedToolName.Of(Name, tool)} did not finish within {_options.MaxCallSeconds} s, so the call was cancelled.");
        }
        catch (McpProtocolException ex)
        {
            throw new ToolException($"The MCP server '{Name}' refused the call: {ex.Message}");
        }
        catch (Exception ex) when (ex is not ToolException)
        {
            // The connection broke (the server's process ended, its stream dropped): the next use connects again.
            LogCallFailed(ex, Name, tool, _tenantId);
            await ForgetClientAsync(client);
            throw new ToolException($"The MCP server '{Name}' failed during the call ({ex.Message}); it is connected again at its next use.");
        }
        finally
        {
            _calls.TryRemove(id, out _);
            CurrentCall.Value = null;
            Touch();
        }
    }

    /// <summary>Closes the connection (stops a <c>stdio</c> server's process); a later use connects again.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connecting.WaitAsync();
        try
        {
            if (_client is { } client)
            {
                _client = null;
                await client.DisposeAsync();
                LogClosed(Name, _tenantId);
            }
        }
        finally
        {
            _connecting.Release();
        }
    }

    /// <summary>The live client, connecting first when there is none; call it holding <see cref="_connecting"/>.</summary>
    private async Task<McpClient> ConnectedAsync(CancellationToken cancellationToken)
    {
        if (_client is { Completion.IsCompleted: false } live)
        {
            return live;
        }

        if (_client is { } ended)
        {
            _client = null;
            await DisposeQuietlyAsync(ended);
        }

        if (_time.GetUtcNow() < _retryAt)
        {
            throw new McpUnavailableException($"The MCP server '{Name}' could not be reached: {_failure}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds));
        try
        {
            var transport = new CallWatchingTransport(_transports.Create(_server), id =>
            {
                if (CurrentCall.Value is { } call)
                {
                    call.RequestId = id;
                }
            });
            var client = await McpClient.CreateAsync(transport, ClientOptions(), _loggers, timeout.Token);
            _client = client;
            Volatile.Write(ref _tools, null);
            LogConnected(Name, _tenantId, _server.Transport, client.NegotiatedProtocolVersion);
            return client;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unavailable(ex, timeout.IsCancellationRequested);
        }
    }

    /// <summary>Tells the server a call it may still be working on is cancelled (<c>notifications/cancelled</c>).</summary>
    private async Task CancelOnServerAsync(McpClient client, InFlightCall call, string reason)
    {
        if (call.RequestId is not { } requestId)
        {
            return;
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await client.SendNotificationAsync(
                NotificationMethods.CancelledNotification,
                new CancelledNotificationParams { RequestId = requestId, Reason = reason },
                McpJsonUtilities.DefaultOptions,
                timeout.Token);
        }
        catch (Exception ex)
        {
            LogCancelNotSent(ex, Name, _tenantId);
        }
    }

    private McpUnavailableException Unavailable(Exception ex, bool timedOut)
    {
        _failure = timedOut ? $"it did not answer within {_options.ConnectTimeoutSeconds} s" : ex.Message;
        _retryAt = _time.GetUtcNow().AddSeconds(_options.RetryAfterSeconds);
        LogUnavailable(ex, Name, _tenantId, _failure);
        return new McpUnavailableException($"The MCP server '{Name}' could not be reached: {_failure}", ex);
    }

    private McpClientOptions ClientOptions() => new()
    {
        ClientInfo = new Implementation { Name = "conclave", Version = typeof(McpConnection).Assembly.GetName().Version?.ToString(3) ?? "0" },
        // No roots: a server that takes its folders from the client's roots keeps those its operator gave it.
        Capabilities = new ClientCapabilities { Elicitation = new ElicitationCapability { Form = new(), Url = new() } },
        InitializationTimeout = TimeSpan.FromSeconds(_options.ConnectTimeoutSeconds),
        Handlers = new McpClientHandlers
        {
            ElicitationHandler = ElicitAsync,
            NotificationHandlers =
            [
                new(NotificationMethods.ToolListChangedNotification, (_, _) =>
                {
                    Volatile.Write(ref _tools, null);
                    LogToolsChanged(Name, _tenantId);
                    return ValueTask.CompletedTask;
                }),
            ],
        },
    };

    /// <summary>
    /// A server's request for input, asked of the user of the run whose call it serves. The protocol does not say which
    /// call a request belongs to: it is the call of this flow (input requests of the newer kind), else the only call in
    /// flight; with several in flight it is declined rather than asked of the wrong person.
    /// </summary>
    private async ValueTask<ElicitResult> ElicitAsync(ElicitRequestParams? request, CancellationToken cancellationToken)
    {
        var call = CurrentCall.Value ?? (_calls.Count == 1 ? _calls.Values.FirstOrDefault() : null);
        if (request is null || call is null)
        {
            LogElicitationDeclined(Name, _tenantId, _calls.Count);
            return new ElicitResult { Action = McpElicitation.Decline };
        }

        var (question, options) = McpElicitation.Question(Name, request);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, call.CancellationToken);
        try
        {
            return McpElicitation.Result(request, await call.Human.AskAsync(question, options, linked.Token));
        }
        catch (Exception ex) when (ex is OperationCanceledException or AskHumanTimeoutException or ToolException)
        {
            return new ElicitResult { Action = McpElicitation.Cancel };
        }
    }

    private AgentTool ToAgentTool(Tool tool)
    {
        var policy = _server.ToolConfirmation?.GetValueOrDefault(tool.Name) ?? _server.Confirmation;
        var asks = McpConfirmation.Asks(policy, tool.Annotations);
        var reason = tool.Annotations?.DestructiveHint == true
            ? $"{SourcedToolName.Of(Name, tool.Name)}, a tool of the MCP server '{Name}', may change or delete data."
            : $"{SourcedToolName.Of(Name, tool.Name)} is a tool of the MCP server '{Name}'.";
        return new AgentTool(new McpToolFunction(Name, tool, _current), asks, reason);
    }

    private async Task ForgetClientAsync(McpClient client)
    {
        if (Interlocked.CompareExchange(ref _client, null, client) == client)
        {
            await DisposeQuietlyAsync(client);
        }
    }

    private async Task DisposeQuietlyAsync(McpClient client)
    {
        try
        {
            await client.DisposeAsync();
        }
        catch (Exception ex)
        {
            LogCloseFailed(ex, Name, _tenantId);
        }
    }

    private void Touch() => Interlocked.Exchange(ref _lastUsedTicks, _time.GetUtcNow().UtcTicks);

    /// <summary>A server's progress on a call: each report starts the call's time limit again.</summary>
    private sealed class SignOfLife(CancellationTokenSource timeout, TimeSpan limit) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value)
        {
            try
            {
                timeout.CancelAfter(limit);
            }
            catch (ObjectDisposedException)
            {
                // The call is over.
            }
        }
    }

    /// <summary>A call in flight: the user of the run that makes it, the run's stop, and the call's request id once sent.</summary>
    private sealed class InFlightCall(IHumanChannel human, CancellationToken cancellationToken)
    {
        public IHumanChannel Human { get; } = human;

        public CancellationToken CancellationToken { get; } = cancellationToken;

        public RequestId? RequestId { get; set; }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Telling MCP server {Server} (tenant {TenantId}) of a cancelled call failed")]
    private partial void LogCancelNotSent(Exception exception, string server, string tenantId);

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP server {Server} connected for tenant {TenantId} over {Transport} (protocol {ProtocolVersion})")]
    private partial void LogConnected(string server, string tenantId, string transport, string? protocolVersion);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {Server} could not be reached for tenant {TenantId}: {Failure}")]
    private partial void LogUnavailable(Exception exception, string server, string tenantId, string failure);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP call {Server}.{Tool} of tenant {TenantId} failed; the connection is made again at its next use")]
    private partial void LogCallFailed(Exception exception, string server, string tool, string tenantId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP call {Server}.{Tool} of tenant {TenantId} took longer than {Seconds} s and was cancelled")]
    private partial void LogCallTimedOut(string server, string tool, string tenantId, int seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP server {Server} changed its tools (tenant {TenantId}); they are listed again at their next use")]
    private partial void LogToolsChanged(string server, string tenantId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "MCP server {Server} asked tenant {TenantId} for input with {Calls} calls in flight; declined, since it cannot be told whose call it serves")]
    private partial void LogElicitationDeclined(string server, string tenantId, int calls);

    [LoggerMessage(Level = LogLevel.Information, Message = "MCP server {Server} closed for tenant {TenantId}")]
    private partial void LogClosed(string server, string tenantId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Closing the MCP connection to {Server} (tenant {TenantId}) failed")]
    private partial void LogCloseFailed(Exception exception, string server, string tenantId);
}
