using System.Threading.Channels;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace Conclave.Mcp;

/// <summary>
/// A transport that notes the request id of each <c>tools/call</c> as it is sent, for the call of the flow that sends it.
/// The SDK does not say which id a call got, and over streamable HTTP its own cancellation of a call does not reach the
/// server; with the id, <see cref="McpConnection"/> sends <c>notifications/cancelled</c> itself.
/// </summary>
internal sealed class CallWatchingTransport(IClientTransport inner, Action<RequestId> sendingCall) : IClientTransport
{
    public string Name => inner.Name;

    public async Task<ITransport> ConnectAsync(CancellationToken cancellationToken = default) =>
        new Watched(await inner.ConnectAsync(cancellationToken), sendingCall);

    private sealed class Watched(ITransport inner, Action<RequestId> sendingCall) : ITransport
    {
        public string? SessionId => inner.SessionId;

        public ChannelReader<JsonRpcMessage> MessageReader => inner.MessageReader;

        public Task SendMessageAsync(JsonRpcMessage message, CancellationToken cancellationToken = default)
        {
            if (message is JsonRpcRequest { Method: RequestMethods.ToolsCall } request)
            {
                sendingCall(request.Id);
            }

            return inner.SendMessageAsync(message, cancellationToken);
        }

        public ValueTask DisposeAsync() => inner.DisposeAsync();
    }
}
