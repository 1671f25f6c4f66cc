using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Conclave.Server.Chat;

/// <summary>
/// The upgraded connection of a chat socket, under its <see cref="System.Net.WebSockets.WebSocket"/>: it passes bytes
/// through, except while a send loop holds it, when the frames written are gathered and go out as one write. A client
/// that fell behind gets the frames queued for it in one write instead of a write (and a flush of the server's output)
/// each.
/// </summary>
internal sealed class FrameBatchingStream(Stream inner) : Stream
{
    // One writer at a time into the connection, in the order they come: the send loop, and the socket's own control
    // frames (pongs, keep-alive pings, close) that the WebSocket writes from other threads.
    private readonly SemaphoreSlim _writing = new(1, 1);
    private bool _holding;

    // What was gathered, in a buffer of the shared pool: a socket holds none between batches.
    private byte[]? _held;
    private int _heldBytes;

    /// <summary>Bytes gathered since <see cref="Hold"/>.</summary>
    public int HeldBytes => _heldBytes;

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    /// <summary>From now on, gather what is written until <see cref="ReleaseAsync"/>.</summary>
    public void Hold() => _holding = true;

    /// <summary>Writes what was gathered, as one write, and passes writes through again.</summary>
    public async ValueTask ReleaseAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _writing.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The connection is being dropped: what was gathered goes with it (to the collector, not back to the pool,
            // as a writer may still hold the lock), and the close frame passes through.
            _holding = false;
            throw;
        }

        try
        {
            _holding = false;
            if (_heldBytes > 0)
            {
                await inner.WriteAsync(_held.AsMemory(0, _heldBytes), cancellationToken);
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            ReturnHeld();
            _writing.Release();
        }
    }

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            if (_holding)
            {
                Gather(buffer.Span);
            }
            else
            {
                await inner.WriteAsync(buffer, cancellationToken);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    private void Gather(ReadOnlySpan<byte> bytes)
    {
        if (_held is null || _held.Length - _heldBytes < bytes.Length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(4096, 2 * (_heldBytes + bytes.Length)));
            _held?.AsSpan(0, _heldBytes).CopyTo(larger);
            if (_held is not null)
            {
                ArrayPool<byte>.Shared.Return(_held);
            }

            _held = larger;
        }

        bytes.CopyTo(_held.AsSpan(_heldBytes));
        _heldBytes += bytes.Length;
    }

    private void ReturnHeld()
    {
        if (_held is not null)
        {
            ArrayPool<byte>.Shared.Return(_held);
            _held = null;
        }

        _heldBytes = 0;
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer, offset, count).GetAwaiter().GetResult();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
        inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    // The WebSocket flushes after each frame; while held, the release is the flush.
    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await _writing.WaitAsync(cancellationToken);
        try
        {
            if (!_holding)
            {
                await inner.FlushAsync(cancellationToken);
            }
        }
        finally
        {
            _writing.Release();
        }
    }

    public override void Flush() => inner.Flush();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    // The lock is not disposed: an abort disposes this stream while writes may still hold it or wait for it, and
    // they end with the connection's error, not with one of the lock's.
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    public override async ValueTask DisposeAsync()
    {
        await inner.DisposeAsync();
        await base.DisposeAsync();
    }
}

/// <summary>
/// Puts a <see cref="FrameBatchingStream"/> under every WebSocket this server accepts: the WebSocket middleware
/// upgrades through this feature, so the socket it makes writes to the batching stream.
/// </summary>
internal sealed class FrameBatchingUpgrade(IHttpUpgradeFeature inner) : IHttpUpgradeFeature
{
    /// <summary>The upgraded connection, once upgraded.</summary>
    public FrameBatchingStream? Stream { get; private set; }

    public bool IsUpgradableRequest => inner.IsUpgradableRequest;

    public async Task<Stream> UpgradeAsync()
    {
        Stream = new FrameBatchingStream(await inner.UpgradeAsync());
        return Stream;
    }

    /// <summary>Wraps the upgrade of each request that can be upgraded; goes before <c>UseWebSockets</c>.</summary>
    public static IApplicationBuilder UseFrameBatching(IApplicationBuilder app) => app.Use((http, next) =>
    {
        if (http.Features.Get<IHttpUpgradeFeature>() is { IsUpgradableRequest: true } upgrade)
        {
            http.Features.Set<IHttpUpgradeFeature>(new FrameBatchingUpgrade(upgrade));
        }

        return next(http);
    });
}
