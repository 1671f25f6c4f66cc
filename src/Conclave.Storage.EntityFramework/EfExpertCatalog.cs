using Conclave.Agents.Teams;

namespace Conclave.Storage.EntityFramework;

/// <summary>The runtime's view of a tenant's own stored experts.</summary>
internal sealed class EfExpertCatalog(ITenantItemStore<Expert> experts) : IExpertCatalog
{
    public async Task<IReadOnlyList<Expert>> ListAsync(string tenantId, CancellationToken cancellationToken = default) =>
        [.. (await experts.ListAsync(tenantId, cancellationToken)).Select(e => e.Item)];
}
