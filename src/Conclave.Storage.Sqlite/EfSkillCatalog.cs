using Conclave.Agents.Skills;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.Sqlite;

/// <summary>The runtime's view of the skills stored in the database.</summary>
internal sealed class EfSkillCatalog(IDbContextFactory<ConclaveDbContext> contexts) : ISkillCatalog
{
    public async Task<IReadOnlyList<Skill>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var rows = await db.Skills.AsNoTracking().Where(s => s.TenantId == tenantId).ToListAsync(cancellationToken);
        return rows.ConvertAll(ToSkill);
    }

    internal static Skill ToSkill(SkillEntity s) => new(
        s.Name, s.Description, s.Keywords, s.Instructions, s.Tools, s.Mode, s.Model, s.ConfirmationTimeoutSeconds, s.AskHumanTimeoutSeconds);
}
