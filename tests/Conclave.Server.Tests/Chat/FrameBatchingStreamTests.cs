using System.Net.WebSockets;
using System.Text;
using Conclave.Server.Chat;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Chat;

public sealed class FrameBatchingStreamTests
{
    [Fact]
    public async Task WritesPassThroughUntilHeldThenGoOutAsOneWriteInOrder()
    {
        var inner = new RecordingStream();
        await using var batching = new FrameBatchingStream(inner);

        await batching.WriteAsync("a"u8.ToArray());
        batching.Hold();
        await batching.WriteAsync("b"u8.ToArray());
        await batching.FlushAsync();
        await batching.WriteAsync("c"u8.ToArray());
        Assert.Equal(["a"], inner.Writes);
        Assert.Equal(2, batching.HeldBytes);

        await batching.ReleaseAsync(CancellationToken.None);
        await batching.WriteAsync("d"u8.ToArray());

        Assert.Equal(["a", "bc", "d"], inner.Writes);
        Assert.Equal(0, batching.HeldBytes);
    }

    [Fact]
    public async Task ACancelledReleaseDropsWhatWasHeldAndWritesPassThroughAgain()
    {
        var inner = new RecordingStream();
        await using var batching = new FrameBatchingStream(inner);
        batching.Hold();
        await batching.WriteAsync("held"u8.ToArray());

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => batching.ReleaseAsync(new CancellationToken(canceled: true)).AsTask());
        await batching.WriteAsync("close"u8.ToArray());

        Assert.Equal(["close"], inner.Writes);
    }

    [Fact]
    public async Task AWebSocketOverItSendsEveryFrameOfAHeldBatchIntact()
    {
        var inner = new RecordingStream();
        await using var batching = new FrameBatchingStream(inner);
        using var server = WebSocket.CreateFromStream(batching, new WebSocketCreationOptions { IsServer = true, KeepAliveInterval = Timeout.InfiniteTimeSpan });

        batching.Hold();
        foreach (var text in new[] { "one", "two", "three" })
        {
            await server.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);
        }

        Assert.Empty(inner.Writes);
        await batching.ReleaseAsync(CancellationToken.None);

        var written = Assert.Single(inner.Writes);
        using var client = WebSocket.CreateFromStream(new MemoryStream(inner.Bytes), new WebSocketCreationOptions { IsServer = false, KeepAliveInterval = Timeout.InfiniteTimeSpan });
        var received = new List<string>();
        var buffer = new byte[64];
        for (var i = 0; i < 3; i++)
        {
            var result = await client.ReceiveAsync(buffer, CancellationToken.None);
            Assert.True(result.EndOfMessage);
            received.Add(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }

        Assert.Equal(["one", "two", "three"], received);
        Assert.NotEmpty(written);
    }

    [Fact]
    public async Task TheServersChatSocketsSendThroughIt()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var session = await server.CreateSessionAsync();
        await using var socket = await server.ConnectAsync(session);

        var frames = await socket.ChatAsync("stream 300 words");

        Assert.Equal(302, frames.Count);
        var connection = Assert.Single(server.Services.GetRequiredService<ChatConnectionRegistry>().OfSession(session));
        Assert.True(connection.BatchesFrames);
    }

    /// <summary>An output that records each write it gets.</summary>
    private sealed class RecordingStream : System.IO.Stream
    {
        private readonly MemoryStream _all = new();

        public List<string> Writes { get; } = [];

        public byte[] Bytes => _all.ToArray();

        public override bool CanRead => true; // a WebSocket wants a readable stream; this one has nothing to read

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Writes.Add(Encoding.Latin1.GetString(buffer.Span));
            _all.Write(buffer.Span);
            return ValueTask.CompletedTask;
        }

        public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

        public override void Flush()
        {
        }

        public override int Read(byte[] buffer, int offset, int count) => 0;

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
