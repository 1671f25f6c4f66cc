using System.Buffers;
using System.Net.WebSockets;
using System.Text.Json;
using System.Threading.Channels;
using System.Threading.RateLimiting;
using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Conclave.Server.Auth;

namespace Conclave.Server.Chat;

/// <summary>
/// One client socket on a session: a receive loop that turns frames into commands for the session's run,
/// and a send loop that writes <c>connected</c>, the missed events, then live events from a bounded queue.
/// The queue is filled without waiting by the event hub; a client that falls behind is closed with 1008
/// and resumes by <c>last_event_id</c>, so it never slows the run or the other sockets.
/// </summary>
internal sealed partial class ChatConnection : ISessionEventSubscriber, IDisposable
{
    // Frames a send loop gathers into one write of the connection, at most.
    private const int MaxBatchBytes = 64 * 1024;
    private static readonly ServerInfo Server = new("conclave", typeof(ChatConnection).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");

    private readonly WebSocket _socket;
    private readonly FrameBatchingStream? _batching;
    private readonly ChatSocketOptions _options;
    private readonly RunCoordinator _runs;
    private readonly IRunControl _control;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Channel<OutgoingFrame> _outgoing;
    private readonly CancellationTokenSource _aborted = new();
    private readonly CancellationTokenSource _sending = new();

    private TokenBucketRateLimiter? _rate;
    private CloseRequest? _close;

    public ChatConnection(
        WebSocket socket,
        FrameBatchingStream? batching,
        string sessionId,
        Caller caller,
        ChatSocketOptions options,
        RunCoordinator runs,
        IRunControl control,
        TimeProvider time,
        ILogger logger)
    {
        _socket = socket;
        _batching = batching;
        SessionId = sessionId;
        Caller = caller;
        _options = options;
        _runs = runs;
        _control = control;
        _time = time;
        _logger = logger;
        _outgoing = Channel.CreateBounded<OutgoingFrame>(new BoundedChannelOptions(options.SendQueueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait,

            // A send loop waiting for a frame goes on in the thread that queued it: the frame goes out without a hop
            // through the thread pool. It only writes into the connection's output buffer, which never blocks.
            AllowSynchronousContinuations = true,
        });
    }

    public string SessionId { get; }

    /// <summary>Whether what queues up while a write goes out is sent as one write (see <see cref="FrameBatchingStream"/>).</summary>
    public bool BatchesFrames => _batching is not null;

    public Caller Caller { get; }

    /// <summary>Completes when the connection is over.</summary>
    public Task Completion { get; private set; } = Task.CompletedTask;

    /// <summary>
    /// Runs both loops until the socket closes, sending first what <paramref name="feed"/> says this client missed. The
    /// caller opened the feed with this connection as its live subscriber.
    /// </summary>
    public Task RunAsync(SessionEventFeed.Opening feed)
    {
        Completion = RunCoreAsync(feed);
        return Completion;
    }

    public bool TryDeliver(SessionEvent sessionEvent)
    {
        if (_outgoing.Writer.TryWrite(new OutgoingFrame(sessionEvent.Utf8Json, sessionEvent.EventId)))
        {
            return true;
        }

        if (_close is null)
        {
            LogSlowClient(SessionId);
        }

        RequestClose(WebSocketCloseStatus.PolicyViolation, "Too far behind; reconnect with last_event_id.", drain: false);
        return false;
    }

    /// <summary>
    /// Closes the socket: after sending what is queued when <paramref name="drain"/> (for at most the close
    /// timeout), else at once. A send stuck on a client that stopped reading is abandoned, which aborts the socket.
    /// </summary>
    public void RequestClose(WebSocketCloseStatus status, string description, bool drain)
    {
        if (Interlocked.CompareExchange(ref _close, new CloseRequest(status, description, drain), null) is not null)
        {
            return;
        }

        // An idle send loop goes on inline from here: it writes what is queued (a drain) or nothing, and leaves the
        // close handshake to a thread of its own.
        _outgoing.Writer.TryComplete();
        try
        {
            if (drain)
            {
                _sending.CancelAfter(TimeSpan.FromSeconds(_options.CloseTimeoutSeconds));
            }
            else
            {
                // Not inline: this may run on the event writer's thread, which must not do socket work.
                _ = _sending.CancelAsync();
            }
        }
        catch (ObjectDisposedException)
        {
            // The connection is already over.
        }
    }

    public void Dispose()
    {
        _rate?.Dispose();
        _sending.Dispose();
        _aborted.Dispose();
    }

    private async Task RunCoreAsync(SessionEventFeed.Opening feed)
    {
        var receiving = ReceiveLoopAsync();
        await SendLoopAsync(feed);

        // The send loop may have ended inline in a thread that asked it to (an event writer dropping a slow client):
        // the close handshake is done in a thread of its own.
        await Task.Yield();
        await CloseAsync(receiving);
    }

    private async Task SendLoopAsync(SessionEventFeed.Opening feed)
    {
        // Every close cancels sending (the abort comes only after this loop); no link to the abort is needed.
        var token = _sending.Token;
        try
        {
            var lastSent = await SendConnectedAndMissedAsync(feed, token);
            var streaming = false;

            // The wait takes no token: a close completes the queue before it cancels sending, which ends the wait, and
            // without one the channel reuses a single waiter instead of making one (and a registration) per frame.
            while (await _outgoing.Reader.WaitToReadAsync() && !Dropping)
            {
                if (_batching is null || (!streaming && _outgoing.Reader.Count == 1))
                {
                    // A frame alone (as a model's tokens come at its own pace) goes straight out: nothing to gather.
                    (lastSent, var alone) = await SendQueuedAsync(feed, lastSent, token);
                    streaming = alone > 1;
                    continue;
                }

                // What is queued goes out in one write. While frames come faster than one at a time (the last write
                // held several), the loop also lets the run go on once before it writes, and takes what it added.
                _batching.Hold();
                var frames = 0;
                try
                {
                    while (true)
                    {
                        (lastSent, var sent) = await SendQueuedAsync(feed, lastSent, token);
                        frames += sent;
                        if (!streaming || _batching.HeldBytes >= MaxBatchBytes || Dropping)
                        {
                            break;
                        }

                        await Task.Yield();
                        if (!_outgoing.Reader.TryPeek(out _))
                        {
                            break;
                        }
                    }
                }
                finally
                {
                    await _batching.ReleaseAsync(token);
                }

                streaming = frames > 1;
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or ChannelClosedException or IOException)
        {
            // The client went away or is being dropped; the close below finishes up.
        }
        catch (Exception ex)
        {
            LogConnectionFailed(ex, SessionId);
        }
    }

    /// <summary>Closing without sending what is queued.</summary>
    private bool Dropping => _close is { Drain: false };

    /// <summary>
    /// Sends the queued frames (up to a batch's worth when batching), and before a frame whose id skips some, those
    /// from <paramref name="feed"/>; returns the newest event id sent and how many went.
    /// </summary>
    private async ValueTask<(long LastSent, int Sent)> SendQueuedAsync(SessionEventFeed.Opening feed, long lastSent, CancellationToken cancellationToken)
    {
        var sent = 0;
        while (!Dropping && (_batching?.HeldBytes ?? 0) < MaxBatchBytes && _outgoing.Reader.TryRead(out var frame))
        {
            if (frame.EventId != 0 && frame.EventId <= lastSent)
            {
                continue; // already sent from the store
            }

            if (frame.EventId > lastSent + 1)
            {
                // Live events skipped some (another instance's, lost on the way): the store has them.
                await foreach (var missed in feed.ReadGapAsync(lastSent, frame.EventId, cancellationToken))
                {
                    await SendAsync(missed.Utf8Json, cancellationToken);
                    sent++;
                }
            }

            await SendAsync(frame.Utf8Json, cancellationToken);
            lastSent = Math.Max(lastSent, frame.EventId);
            sent++;
        }

        return (lastSent, sent);
    }

    /// <summary>Sends <c>connected</c>, then the events the client missed; returns the newest id sent.</summary>
    private async Task<long> SendConnectedAndMissedAsync(SessionEventFeed.Opening feed, CancellationToken cancellationToken)
    {
        var active = await _control.FindActiveAsync(SessionId, cancellationToken);
        var pending = active?.Pending.Select(e => JsonDocument.Parse(e.Utf8Json).RootElement).ToList() ?? [];
        var connected = new ConnectedFrame(SessionId, 1, Server, feed.NewestStored, active?.RunId, pending, Now());
        await SendAsync(JsonSerializer.SerializeToUtf8Bytes(connected, ServerFramesJsonContext.Wire.ConnectedFrame), cancellationToken);

        var lastSent = feed.StartAfter;
        await foreach (var missed in feed.ReadMissedAsync(cancellationToken))
        {
            await SendAsync(missed.Utf8Json, cancellationToken);
            lastSent = missed.EventId;
        }

        return lastSent;
    }

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        var token = _aborted.Token;
        try
        {
            while (_socket.State == WebSocketState.Open)
            {
                // Wait for the next frame without a buffer, so that an idle socket holds none; the buffer is the frame's.
                var ready = await _socket.ReceiveAsync(Memory<byte>.Empty, token);
                var buffer = new ArrayBufferWriter<byte>(256);
                var (kind, tooLarge) = ready is { MessageType: not WebSocketMessageType.Close, EndOfMessage: false }
                    ? await ReceiveMessageAsync(buffer, token)
                    : (ready.MessageType, false); // a close, or an empty frame the wait took whole
                if (kind == WebSocketMessageType.Close)
                {
                    RequestClose(WebSocketCloseStatus.NormalClosure, "Closed by the client.", drain: false);
                    return;
                }

                if (_close is not null)
                {
                    return; // closing (revoked key, deleted session, fell behind): take no more commands
                }

                // Made at the first frame: an idle socket holds none. Refilled on each frame from the time elapsed: no timer.
                _rate ??= new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
                {
                    TokenLimit = _options.MaxFramesPerSecond * 2,
                    TokensPerPeriod = _options.MaxFramesPerSecond,
                    ReplenishmentPeriod = TimeSpan.FromSeconds(1),
                    QueueLimit = 0,
                    AutoReplenishment = false,
                });
                _rate.TryReplenish();
                using var lease = _rate.AttemptAcquire();
                if (!lease.IsAcquired)
                {
                    Reply(ErrorCodes.RateLimited, $"More than {_options.MaxFramesPerSecond} frames per second; this frame was dropped.", retryable: true);
                }
                else if (tooLarge)
                {
                    Reply(ErrorCodes.PayloadTooLarge, $"The frame is larger than {_options.MaxMessageBytes} bytes.");
                }
                else if (kind == WebSocketMessageType.Binary)
                {
                    Reply(ErrorCodes.InvalidMessage, "Frames must be text: one JSON object each.");
                }
                else
                {
                    await HandleAsync(ClientFrame.Parse(buffer.WrittenMemory));
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            RequestClose(WebSocketCloseStatus.NormalClosure, "Connection lost.", drain: false);
        }
        catch (Exception ex)
        {
            LogConnectionFailed(ex, SessionId);
            RequestClose(WebSocketCloseStatus.InternalServerError, "The server failed to handle a frame.", drain: false);
        }
    }

    /// <summary>Reads one whole message; past the size limit it reads on to the end but keeps nothing.</summary>
    private async Task<(WebSocketMessageType Kind, bool TooLarge)> ReceiveMessageAsync(ArrayBufferWriter<byte> buffer, CancellationToken cancellationToken)
    {
        var tooLarge = false;
        while (true)
        {
            var memory = tooLarge ? buffer.GetMemory(1024)[..1024] : buffer.GetMemory(1024);
            var result = await _socket.ReceiveAsync(memory, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return (WebSocketMessageType.Close, false);
            }

            if (!tooLarge)
            {
                buffer.Advance(result.Count);
                if (buffer.WrittenCount > _options.MaxMessageBytes)
                {
                    tooLarge = true;
                    buffer.ResetWrittenCount();
                }
            }

            if (result.EndOfMessage)
            {
                return (result.MessageType, tooLarge);
            }
        }
    }

    private async Task HandleAsync(ClientFrame frame)
    {
        switch (frame)
        {
            case InvalidFrame invalid:
                Reply(invalid.Code, invalid.Message);
                break;
            case PingFrame ping:
                Enqueue(JsonSerializer.SerializeToUtf8Bytes(new PongFrame(ping.Nonce, Now()), ServerFramesJsonContext.Wire.PongFrame));
                break;
            case MessageFrame message:
                var started = await _runs.StartAsync(
                    new RunRequest(Caller.TenantId, SessionId, message.Content, message.MessageId, message.Mode, message.Skill),
                    _aborted.Token);
                if (!started.Started)
                {
                    Reply(started.ErrorCode!, started.ErrorMessage!, started.Retryable);
                }

                break;
            case CancelFrame cancel:
                if (!await _control.CancelAsync(SessionId, cancel.RunId, _aborted.Token))
                {
                    Reply(ErrorCodes.NoActiveRun, cancel.RunId is null ? "The session has no active run." : $"Run {cancel.RunId} is not active.");
                }

                break;
            case ConfirmationReplyFrame confirmation:
                if (!await _control.AnswerAsync(
                        SessionId, confirmation.RequestId, RequestKind.Confirmation, new HumanAnswer(confirmation.Approved, confirmation.Reason), _aborted.Token))
                {
                    Reply(ErrorCodes.UnknownRequest, $"No confirmation request '{confirmation.RequestId}' is pending.");
                }

                break;
            case ReplyFrame reply:
                if (!await _control.AnswerAsync(SessionId, reply.RequestId, RequestKind.Question, new HumanAnswer(true, reply.Content), _aborted.Token))
                {
                    Reply(ErrorCodes.UnknownRequest, $"No question '{reply.RequestId}' is pending.");
                }

                break;
        }
    }

    private void Reply(string code, string message, bool retryable = false) =>
        Enqueue(JsonSerializer.SerializeToUtf8Bytes(new ErrorFrame(code, message, retryable, Now()), ServerFramesJsonContext.Wire.ErrorFrame));

    private void Enqueue(byte[] frame)
    {
        if (!_outgoing.Writer.TryWrite(new OutgoingFrame(frame, 0)))
        {
            RequestClose(WebSocketCloseStatus.PolicyViolation, "Too far behind; reconnect with last_event_id.", drain: false);
        }
    }

    private ValueTask SendAsync(ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken) =>
        _socket.SendAsync(utf8, WebSocketMessageType.Text, endOfMessage: true, cancellationToken);

    private async Task CloseAsync(Task receiving)
    {
        // From here on a late RequestClose (a revoke, a shutdown) has nothing left to do.
        Interlocked.CompareExchange(ref _close, new CloseRequest(WebSocketCloseStatus.NormalClosure, "Closed.", false), null);
        var close = _close;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(_options.CloseTimeoutSeconds));
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                await _socket.CloseOutputAsync(close.Status, close.Description, timeout.Token);
            }

            await receiving.WaitAsync(timeout.Token);
        }
        catch (Exception ex) when (ex is OperationCanceledException or WebSocketException or IOException)
        {
            // The client did not finish the close handshake in time, or was already gone.
        }
        finally
        {
            await _aborted.CancelAsync();
            if (_socket.State != WebSocketState.Closed)
            {
                _socket.Abort();
            }
        }
    }

    private DateTime Now() => _time.GetUtcNow().UtcDateTime;

    [LoggerMessage(Level = LogLevel.Error, Message = "A chat socket of session {SessionId} failed")]
    private partial void LogConnectionFailed(Exception exception, string sessionId);

    [LoggerMessage(Level = LogLevel.Information, Message = "A client of session {SessionId} fell behind; closing its socket with 1008")]
    private partial void LogSlowClient(string sessionId);

    private readonly record struct OutgoingFrame(ReadOnlyMemory<byte> Utf8Json, long EventId);

    private sealed record CloseRequest(WebSocketCloseStatus Status, string Description, bool Drain);
}
