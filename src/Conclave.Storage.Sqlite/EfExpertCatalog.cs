using Conclave.Agents.Teams;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.Sqlite;

/// <summary>The runtime's view of the tenants' own experts in the database.</summary>
internal sealed class EfExpertCatalog(IDbContextFactory<ConclaveDbContext> contexts) : IExpertCatalog
{
    public async Task<IReadOnlyList<Expert>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Experts.AsNoTracking().Where(e => e.TenantId == tenantId).OrderBy(e => e.Name).ToListAsync(cancellationToken);
        return rows.ConvertAll(e => new Expert(e.Name, e.Role, e.Instructions, e.Tools, e.Model));
    }
}
