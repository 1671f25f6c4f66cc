using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Models;

/// <summary>
/// Makes <c>cancel</c> abort a provider's HTTP response that is still streaming. HttpClient honours a
/// cancellation token only until the response headers arrive, and some provider clients read the rest
/// without one; so the token of the model call travels with the call (<see cref="CallToken"/>), and
/// <see cref="Handler"/> disposes the response, closing its connection, when that token is cancelled.
/// </summary>
internal static class AbortOnCancel
{
    /// <summary>The cancellation token of the model call the current code runs for.</summary>
    private static readonly AsyncLocal<CancellationToken> CallToken = new();

    /// <summary>The chat client side: carries the token to the HTTP layer and stops waiting at once on cancel.</summary>
    public sealed class ChatClient(IChatClient inner) : DelegatingChatClient(inner)
    {
        public override Task<ChatResponse> GetResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            CallToken.Value = cancellationToken;
            return base.GetResponseAsync(messages, options, cancellationToken);
        }

        public override async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
        {
            CallToken.Value = cancellationToken;
            var updates = base.GetStreamingResponseAsync(messages, options, cancellationToken).GetAsyncEnumerator(cancellationToken);
            try
            {
                while (await updates.MoveNextAsync().AsTask().WaitAsync(cancellationToken))
                {
                    yield return updates.Current;
                }
            }
            finally
            {
                // After a cancel the inner read may still be pending; the aborted connection ends it.
                if (!cancellationToken.IsCancellationRequested)
                {
                    await updates.DisposeAsync();
                }
            }
        }
    }

    /// <summary>The HTTP side: ties each response to the token of the call that sent it.</summary>
    public sealed class Handler : DelegatingHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var callToken = CallToken.Value;
            if (callToken.CanBeCanceled)
            {
                var registration = callToken.UnsafeRegister(static state => ((HttpResponseMessage)state!).Dispose(), response);
                response.Content = new RegisteredContent(response.Content, registration);
            }

            return response;
        }
    }

    /// <summary>The response's content, which lets go of the cancel registration when it is disposed.</summary>
    private sealed class RegisteredContent : HttpContent
    {
        private readonly HttpContent _inner;
        private readonly CancellationTokenRegistration _registration;

        public RegisteredContent(HttpContent inner, CancellationTokenRegistration registration)
        {
            _inner = inner;
            _registration = registration;
            foreach (var header in inner.Headers)
            {
                Headers.TryAddWithoutValidation(header.Key, header.Value);
            }
        }

        protected override Task<Stream> CreateContentReadStreamAsync() => _inner.ReadAsStreamAsync();

        protected override Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            _inner.ReadAsStreamAsync(cancellationToken);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => _inner.CopyToAsync(stream, context);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            _inner.CopyToAsync(stream, context, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _registration.Dispose();
                _inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
