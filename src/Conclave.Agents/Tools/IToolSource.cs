namespace Conclave.Agents.Tools;

/// <summary>
/// Tools beyond the built-in ones that a tenant's runs may use, such as those of the MCP servers registered for it.
/// Their names are namespaced (<c>source.tool</c>), so that they never take a built-in tool's name.
/// </summary>
public interface IToolSource
{
    /// <summary>
    /// The tenant's tools from this source. A part of the source that cannot be reached now (a server that is down) is
    /// left out rather than failing the run.
    /// </summary>
    Task<IReadOnlyList<AgentTool>> ListAsync(string tenantId, CancellationToken cancellationToken = default);

    /// <summary>Whether <paramref name="name"/> names a tool this source may give the tenant, without reaching it.</summary>
    Task<bool> MayProvideAsync(string tenantId, string name, CancellationToken cancellationToken = default);
}
