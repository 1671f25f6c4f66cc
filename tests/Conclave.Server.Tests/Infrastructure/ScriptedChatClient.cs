using System.Runtime.CompilerServices;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Infrastructure;

/// <summary>A model whose every turn is written by the test: a callback gets the messages and options and yields updates.</summary>
internal sealed class ScriptedChatClient(
    Func<IReadOnlyList<ChatMessage>, ChatOptions?, CancellationToken, IAsyncEnumerable<ChatResponseUpdate>> turn) : IChatClient
{
    public List<(IReadOnlyList<ChatMessage> Messages, ChatOptions? Options)> Calls { get; } = [];

    public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default) =>
        GetStreamingResponseAsync(messages, options, cancellationToken).ToChatResponseAsync(cancellationToken);

    public async IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
        IEnumerable<ChatMessage> messages, ChatOptions? options = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var snapshot = messages.ToList();
        lock (Calls)
        {
            Calls.Add((snapshot, options));
        }

        await foreach (var update in turn(snapshot, options, cancellationToken).WithCancellation(cancellationToken))
        {
            yield return update;
        }
    }

    public object? GetService(Type serviceType, object? serviceKey = null) => serviceType.IsInstanceOfType(this) ? this : null;

    public void Dispose()
    {
    }

    public static ChatResponseUpdate Text(string text) => new(ChatRole.Assistant, text);

    public static async IAsyncEnumerable<ChatResponseUpdate> Answer(params string[] tokens)
    {
        foreach (var token in tokens)
        {
            await Task.Yield();
            yield return Text(token);
        }
    }
}
