using System.Text.Json;
using Conclave.Agents.Skills;
using Conclave.Agents.Teams;
using Microsoft.EntityFrameworkCore;

namespace Conclave.Storage.EntityFramework;

/// <summary>A tenant's named items in one table: the rows and the items map both ways, the rest is the same for every kind.</summary>
internal abstract class EfTenantItemStore<TItem, TEntity>(IDbContextFactory<ConclaveDbContext> contexts) : ITenantItemStore<TItem>
    where TEntity : class, ITenantItemEntity
{
    public async Task<IReadOnlyList<Stored<TItem>>> ListAsync(string tenantId, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var items = new List<Stored<TItem>>();
        await foreach (var row in _ofTenant(db, tenantId).WithCancellation(cancellationToken))
        {
            items.Add(ToStored(row));
        }

        return items;
    }

    // Compiled once per store (a compiled query keeps the provider it first ran on): every run's start lists the tenant's skills.
    private readonly Func<ConclaveDbContext, string, IAsyncEnumerable<TEntity>> _ofTenant = EF.CompileAsyncQuery<ConclaveDbContext, string, TEntity>(
        (ConclaveDbContext db, string tenantId) => db.Set<TEntity>().AsNoTracking().Where(e => e.TenantId == tenantId).OrderBy(e => e.Name));

    public async Task<Stored<TItem>?> FindAsync(string tenantId, string name, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<TEntity>().AsNoTracking().FirstOrDefaultAsync(e => e.TenantId == tenantId && e.Name == name, cancellationToken);
        return row is null ? null : ToStored(row);
    }

    public async Task<Stored<TItem>?> AddAsync(string tenantId, TItem item, DateTime at, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var name = NameOf(item);
        if (await db.Set<TEntity>().AnyAsync(e => e.TenantId == tenantId && e.Name == name, cancellationToken))
        {
            return null;
        }

        var row = NewRow(tenantId, name, at);
        Apply(row, item, at);
        db.Set<TEntity>().Add(row);
        await db.SaveChangesAsync(cancellationToken);
        return ToStored(row);
    }

    public async Task<Stored<TItem>> PutAsync(string tenantId, TItem item, DateTime at, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var name = NameOf(item);
        var row = await db.Set<TEntity>().FirstOrDefaultAsync(e => e.TenantId == tenantId && e.Name == name, cancellationToken);
        if (row is null)
        {
            row = NewRow(tenantId, name, at);
            db.Set<TEntity>().Add(row);
        }

        Apply(row, item, at);
        await db.SaveChangesAsync(cancellationToken);
        return ToStored(row);
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var row = await db.Set<TEntity>().FirstOrDefaultAsync(e => e.TenantId == tenantId && e.Name == name, cancellationToken);
        if (row is null)
        {
            return false;
        }

        db.Set<TEntity>().Remove(row);
        await db.SaveChangesAsync(cancellationToken);
        return true;
    }

    protected abstract string NameOf(TItem item);

    protected abstract TEntity NewRow(string tenantId, string name, DateTime at);

    /// <summary>Writes the item into the row, as changed at <paramref name="at"/>.</summary>
    protected abstract void Apply(TEntity row, TItem item, DateTime at);

    protected abstract TItem ToItem(TEntity row);

    private Stored<TItem> ToStored(TEntity row) => new(ToItem(row), row.CreatedAt, row.UpdatedAt);
}

/// <summary>Skills in the database.</summary>
internal sealed class EfSkillStore(IDbContextFactory<ConclaveDbContext> contexts) : EfTenantItemStore<Skill, SkillEntity>(contexts)
{
    protected override string NameOf(Skill item) => item.Name;

    protected override SkillEntity NewRow(string tenantId, string name, DateTime at) =>
        new() { TenantId = tenantId, Name = name, Description = string.Empty, Instructions = string.Empty, CreatedAt = at };

    protected override void Apply(SkillEntity row, Skill item, DateTime at)
    {
        row.Description = item.Description;
        row.Keywords = [.. item.Keywords];
        row.Instructions = item.Instructions;
        row.Tools = item.Tools?.ToList();
        row.Mode = item.Mode;
        row.Model = item.Model;
        row.ConfirmationTimeoutSeconds = item.ConfirmationTimeoutSeconds;
        row.AskHumanTimeoutSeconds = item.AskHumanTimeoutSeconds;
        row.UpdatedAt = at;
    }

    protected override Skill ToItem(SkillEntity row) => new(
        row.Name, row.Description, row.Keywords, row.Instructions, row.Tools, row.Mode, row.Model, row.ConfirmationTimeoutSeconds, row.AskHumanTimeoutSeconds);
}

/// <summary>A tenant's own experts in the database.</summary>
internal sealed class EfExpertStore(IDbContextFactory<ConclaveDbContext> contexts) : EfTenantItemStore<Expert, ExpertEntity>(contexts)
{
    protected override string NameOf(Expert item) => item.Name;

    protected override ExpertEntity NewRow(string tenantId, string name, DateTime at) =>
        new() { TenantId = tenantId, Name = name, Role = string.Empty, Instructions = string.Empty, CreatedAt = at };

    protected override void Apply(ExpertEntity row, Expert item, DateTime at)
    {
        row.Role = item.Role;
        row.Instructions = item.Instructions;
        row.Tools = item.Tools?.ToList();
        row.Model = item.Model;
        row.UpdatedAt = at;
    }

    protected override Expert ToItem(ExpertEntity row) => new(row.Name, row.Role, row.Instructions, row.Tools, row.Model);
}

/// <summary>A tenant's MCP server registrations in the database.</summary>
internal sealed class EfMcpServerStore(IDbContextFactory<ConclaveDbContext> contexts) : EfTenantItemStore<McpServerRegistration, McpServerEntity>(contexts)
{
    protected override string NameOf(McpServerRegistration item) => item.Name;

    protected override McpServerEntity NewRow(string tenantId, string name, DateTime at) =>
        new() { TenantId = tenantId, Name = name, Transport = string.Empty, Confirmation = string.Empty, CreatedAt = at };

    protected override void Apply(McpServerEntity row, McpServerRegistration item, DateTime at)
    {
        row.Transport = item.Transport;
        row.Command = item.Command;
        row.Arguments = item.Arguments?.ToList();
        row.Url = item.Url;
        row.EnvironmentNames = [.. item.EnvironmentNames];
        row.HeaderNames = [.. item.HeaderNames];
        row.ProtectedSecrets = item.ProtectedSecrets;
        row.Confirmation = item.Confirmation;
        row.ToolConfirmation = item.ToolConfirmation is null
            ? null
            : JsonSerializer.Serialize(new Dictionary<string, string>(item.ToolConfirmation), StorageJson.Default.DictionaryStringString);
        row.TimeoutSeconds = item.TimeoutSeconds;
        row.UpdatedAt = at;
    }

    protected override McpServerRegistration ToItem(McpServerEntity row) => new(
        row.Name,
        row.Transport,
        row.Command,
        row.Arguments,
        row.Url,
        row.EnvironmentNames,
        row.HeaderNames,
        row.ProtectedSecrets,
        row.Confirmation,
        row.ToolConfirmation is null ? null : JsonSerializer.Deserialize(row.ToolConfirmation, StorageJson.Default.DictionaryStringString),
        row.TimeoutSeconds);
}
