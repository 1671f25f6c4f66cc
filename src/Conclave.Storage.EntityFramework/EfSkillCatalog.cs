using Conclave.Agents.Skills;

namespace Conclave.Storage.EntityFramework;

/// <summary>The runtime's view of the stored skills: the items, without when they were made.</summary>
internal sealed class EfSkillCatalog(ITenantItemStore<Skill> skills) : ISkillCatalog
{
    public async Task<IReadOnlyList<Skill>> ListAsync(string tenantId, CancellationToken cancellationToken = default) =>
        [.. (await skills.ListAsync(tenantId, cancellationToken)).Select(s => s.Item)];
}
