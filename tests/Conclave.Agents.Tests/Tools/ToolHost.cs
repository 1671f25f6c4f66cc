using System.Text.Json;
using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Tools;

/// <summary>
/// The built-in tools wired as the runtime wires them (named HttpClient over <see cref="HttpGetTool.CreateHandler"/>),
/// called the way the agent loop calls them: with a <see cref="ToolContext"/> in the arguments' context.
/// </summary>
internal sealed class ToolHost : IDisposable
{
    private readonly ServiceProvider _services;

    public ToolHost(ToolOptions options)
    {
        var services = new ServiceCollection();
        services.AddHttpClient(HttpGetTool.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => HttpGetTool.CreateHandler(options.HttpGet));
        _services = services.BuildServiceProvider();
        var wrapped = Options.Create(options);
        HttpGet = new HttpGetTool(_services.GetRequiredService<IHttpClientFactory>(), wrapped);
        Catalog = new ToolCatalog(new FileTools(wrapped), HttpGet);
    }

    public HttpGetTool HttpGet { get; }

    public ToolCatalog Catalog { get; }

    public AgentTool Tool(string name) =>
        Catalog.TryGet(name, out var tool) ? tool : throw new InvalidOperationException($"No tool {name}.");

    public async Task<string> CallAsync(
        string name, ToolContext context, Dictionary<string, object?> arguments, CancellationToken cancellationToken = default)
    {
        var callArguments = new AIFunctionArguments(arguments)
        {
            Context = new Dictionary<object, object?> { [typeof(ToolContext)] = context },
        };
        return Text(await Tool(name).Function.InvokeAsync(callArguments, cancellationToken));
    }

    public void Dispose() => _services.Dispose();

    private static string Text(object? result) => result switch
    {
        string s => s,
        JsonElement { ValueKind: JsonValueKind.String } e => e.GetString()!,
        _ => throw new InvalidOperationException($"The tool returned {result?.GetType().Name ?? "null"}, not text."),
    };
}
