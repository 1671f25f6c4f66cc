using Conclave.Server.Models;
using Microsoft.Extensions.AI;

namespace Conclave.Server.Tests.Models;

public sealed class ModelDefaultsTests
{
    [Fact]
    public async Task DefaultsFillWhatTheCallerLeftUnsetOnACopy()
    {
        var model = new CapturingChatClient();
        using var client = new ModelDefaults(model, 0.25f, 512);
        var callers = new ChatOptions { ModelId = "large-model" };

        await client.GetResponseAsync("hi", callers);

        var sent = Assert.Single(model.Options);
        Assert.Equal(0.25f, sent.Temperature);
        Assert.Equal(512, sent.MaxOutputTokens);
        Assert.Equal("large-model", sent.ModelId);
        Assert.Null(callers.Temperature);
        Assert.Null(callers.MaxOutputTokens);
    }

    [Fact]
    public async Task TheCallersOwnValuesWin()
    {
        var model = new CapturingChatClient();
        using var client = new ModelDefaults(model, 0.25f, 512);

        await foreach (var _ in client.GetStreamingResponseAsync("hi", new ChatOptions { Temperature = 1.5f, MaxOutputTokens = 8 }))
        {
        }

        var sent = Assert.Single(model.Options);
        Assert.Equal(1.5f, sent.Temperature);
        Assert.Equal(8, sent.MaxOutputTokens);
    }

    [Fact]
    public void TheModelsStreamIsPassedOnAsItIs()
    {
        var model = new CapturingChatClient();
        using var client = new ModelDefaults(model, null, null);

        var stream = client.GetStreamingResponseAsync("hi");

        // No enumerator of its own between the model and the agent loop, for each streamed piece.
        Assert.Same(model.Stream, stream);
    }

    private sealed class CapturingChatClient : IChatClient
    {
        public List<ChatOptions> Options { get; } = [];

        public IAsyncEnumerable<ChatResponseUpdate> Stream { get; } = new[] { new ChatResponseUpdate(ChatRole.Assistant, "ok") }.ToAsyncEnumerable();

        public Task<ChatResponse> GetResponseAsync(IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Options.Add(options!);
            return Task.FromResult(new ChatResponse(new ChatMessage(ChatRole.Assistant, "ok")));
        }

        public IAsyncEnumerable<ChatResponseUpdate> GetStreamingResponseAsync(
            IEnumerable<ChatMessage> messages, ChatOptions? options = null, CancellationToken cancellationToken = default)
        {
            Options.Add(options!);
            return Stream;
        }

        public object? GetService(Type serviceType, object? serviceKey = null) => null;

        public void Dispose()
        {
        }
    }
}
