using System.Collections.Concurrent;
using Conclave.Agents.Runs;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>
/// This process's connection to the other instances through Redis pub/sub: one channel that carries every session's
/// events (delivered in the order each publisher sent them), one for control requests to whichever instance runs the
/// run, and one per instance for the replies it waits for. Connects at start; StackExchange.Redis reconnects and
/// resubscribes by itself after a failure.
/// </summary>
internal sealed partial class RedisBus(RedisClusterOptions options, InstanceIdentity instance, ILogger<RedisBus> logger) : IHostedService, IClusterProbe, IAsyncDisposable
{
    private readonly ConcurrentDictionary<Guid, PendingRequest> _waiting = new();
    private ConnectionMultiplexer? _redis;

    /// <summary>This process's id among the instances.</summary>
    public Guid InstanceId { get; } = Guid.ParseExact(instance.Id, "N");

    /// <summary>Another instance's event, in the order it published them.</summary>
    public event Action<Conclave.Agents.Events.SessionEvent>? RemoteEvent;

    /// <summary>The connection to Redis is back after a failure: what was published meanwhile did not arrive.</summary>
    public event Action? Reconnected;

    /// <summary>Carries out another instance's control request; answers whether this process did (<see cref="RemoteControl"/> sets it).</summary>
    public Func<ControlRequest, Task<bool>>? ControlHandler { get; set; }

    private RedisChannel EventsChannel => RedisChannel.Literal($"{options.ChannelPrefix}:events");

    private RedisChannel ControlChannel => RedisChannel.Literal($"{options.ChannelPrefix}:control");

    private RedisChannel RepliesChannel(Guid instance) => RedisChannel.Literal($"{options.ChannelPrefix}:replies:{instance:N}");

    /// <summary>The Redis database, for what the instances keep there (single-use values).</summary>
    public IDatabase Database => Connection.GetDatabase();

    private ISubscriber Subscriber => Connection.GetSubscriber();

    private ConnectionMultiplexer Connection => _redis ?? throw new InvalidOperationException("The Redis bus has not started.");

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = ConfigurationOptions.Parse(options.Configuration);
        configuration.AbortOnConnectFail = false;
        configuration.ClientName = $"conclave-{InstanceId:N}";
        _redis = await ConnectionMultiplexer.ConnectAsync(configuration);
        _redis.ConnectionFailed += (_, e) => LogConnectionFailed(e.Exception, e.EndPoint?.ToString(), e.FailureType);
        _redis.ConnectionRestored += (_, e) =>
        {
            LogConnectionRestored(e.EndPoint?.ToString());
            Reconnected?.Invoke();
        };

        // Events: one queue, handled one at a time, so that a session's events reach its sockets in the order sent.
        var events = await Subscriber.SubscribeAsync(EventsChannel);
        events.OnMessage(message =>
        {
            foreach (var sessionEvent in EventCodec.Decode(message.Message, InstanceId))
            {
                RemoteEvent?.Invoke(sessionEvent);
            }
        });

        var control = await Subscriber.SubscribeAsync(ControlChannel);
        control.OnMessage(async message => await OnControlAsync(message.Message));
        var replies = await Subscriber.SubscribeAsync(RepliesChannel(InstanceId));
        replies.OnMessage(message => OnReply(message.Message));
        LogStarted(InstanceId);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task CheckAsync(CancellationToken cancellationToken = default)
    {
        if (_redis is not { IsConnected: true } redis)
        {
            throw new InvalidOperationException("Not connected to Redis.");
        }

        await redis.GetSubscriber().PingAsync().WaitAsync(TimeSpan.FromSeconds(2), cancellationToken);
    }

    /// <summary>Sends events of this process to the other instances as one message; does not wait (the connection keeps their order).</summary>
    public void Publish(IReadOnlyList<Conclave.Agents.Events.SessionEvent> events) =>
        Subscriber.Publish(EventsChannel, EventCodec.Encode(events, InstanceId), CommandFlags.FireAndForget);

    /// <summary>
    /// Asks the other instances to carry out a control request; true as soon as one did, false when every one answered
    /// no, or none answered within <see cref="RedisClusterOptions.ControlTimeout"/>.
    /// </summary>
    public Task<bool> RequestAsync(ControlRequest request, CancellationToken cancellationToken) =>
        SendAsync(request, untilAll: false, cancellationToken);

    /// <summary>Tells every other instance, and waits until each answered, or <see cref="RedisClusterOptions.ControlTimeout"/>.</summary>
    public Task BroadcastAsync(ControlRequest request, CancellationToken cancellationToken) =>
        SendAsync(request, untilAll: true, cancellationToken);

    private async Task<bool> SendAsync(ControlRequest request, bool untilAll, CancellationToken cancellationToken)
    {
        var id = Guid.NewGuid();
        var pending = new PendingRequest(untilAll);
        _waiting[id] = pending;
        try
        {
            var receivers = await Subscriber.PublishAsync(ControlChannel, ControlCodec.EncodeRequest(request with { Id = id, From = InstanceId }));

            // Every instance receives it, this one too (which ignores its own): the others' answers are all there is to wait for.
            pending.Expect((int)receivers - 1);
            return await pending.Answer.WaitAsync(options.ControlTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            return false;
        }
        catch (RedisException ex)
        {
            // Redis is away: no other instance can be asked.
            LogControlUnsent(ex, request.Kind, request.SessionId);
            return false;
        }
        finally
        {
            _waiting.TryRemove(id, out _);
        }
    }

    private async Task OnControlAsync(RedisValue message)
    {
        if (!ControlCodec.TryDecodeRequest(message, out var request) || request.From == InstanceId || ControlHandler is not { } handler)
        {
            return;
        }

        bool done;
        try
        {
            done = await handler(request);
        }
        catch (Exception ex)
        {
            LogControlFailed(ex, request.Kind, request.SessionId);
            done = false;
        }

        try
        {
            await Subscriber.PublishAsync(RepliesChannel(request.From), ControlCodec.EncodeReply(request.Id, done));
        }
        catch (RedisException ex)
        {
            // The asker stops waiting at its timeout.
            LogControlUnsent(ex, request.Kind, request.SessionId);
        }
    }

    private void OnReply(RedisValue message)
    {
        if (ControlCodec.TryDecodeReply(message, out var id, out var done) && _waiting.TryGetValue(id, out var pending))
        {
            pending.Replied(done);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Joined the instances on Redis as {InstanceId}")]
    private partial void LogStarted(Guid instanceId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The connection to Redis at {EndPoint} failed ({FailureType}); reconnecting")]
    private partial void LogConnectionFailed(Exception? exception, string? endPoint, ConnectionFailureType failureType);

    [LoggerMessage(Level = LogLevel.Information, Message = "The connection to Redis at {EndPoint} is back")]
    private partial void LogConnectionRestored(string? endPoint);

    [LoggerMessage(Level = LogLevel.Warning, Message = "A {Kind} for session {SessionId} could not be sent to the other instances: Redis does not answer")]
    private partial void LogControlUnsent(Exception exception, ControlKind kind, string sessionId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Carrying out another instance's {Kind} for session {SessionId} failed")]
    private partial void LogControlFailed(Exception exception, ControlKind kind, string sessionId);

    /// <summary>
    /// A control request's answers: yes at the first instance that carried it out, no once every one said no; or, for a
    /// notice, done once every one answered.
    /// </summary>
    private sealed class PendingRequest(bool untilAll)
    {
        private readonly TaskCompletionSource<bool> _answer = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly Lock _lock = new();
        private int _expected = -1;
        private int _answered;

        public Task<bool> Answer => _answer.Task;

        /// <summary>How many instances will answer: known only once the request is out, maybe after some answered.</summary>
        public void Expect(int instances)
        {
            lock (_lock)
            {
                _expected = instances;
                if (_answered >= _expected)
                {
                    _answer.TrySetResult(untilAll);
                }
            }
        }

        public void Replied(bool done)
        {
            lock (_lock)
            {
                if (done && !untilAll)
                {
                    _answer.TrySetResult(true);
                }
                else if (++_answered >= _expected && _expected >= 0)
                {
                    _answer.TrySetResult(untilAll);
                }
            }
        }
    }
}
