using System.ComponentModel.DataAnnotations;

namespace Conclave.Agents.Models;

/// <summary>Settings of the builtin offline model (<c>Conclave:Llm:Builtin</c>).</summary>
public sealed class BuiltinModelOptions
{
    /// <summary>Milliseconds between two streamed tokens; 0 streams as fast as possible.</summary>
    [Range(0, 60_000)]
    public int TokenDelayMs { get; set; } = 10;
}
