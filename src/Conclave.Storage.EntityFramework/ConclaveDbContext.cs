using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Storage.EntityFramework;

/// <summary>Conclave's database: sessions, their history and events, runs, skills, MCP servers, API keys and the Data Protection key ring.</summary>
internal sealed class ConclaveDbContext(DbContextOptions<ConclaveDbContext> options) : DbContext(options)
{
    public DbSet<SessionEntity> Sessions => Set<SessionEntity>();

    /// <summary>
    /// Whether the code using this context has entered the process's turn for writes itself (for a transaction of
    /// several statements): its saves then write without waiting for the turn again.
    /// </summary>
    public bool HoldsWriteGate { get; set; }

    /// <summary>Saves in the process's turn for writes (<see cref="WriteGate"/>), whatever the save ends in.</summary>
    public override async Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        // Design-time tools make contexts without the application's services; they write alone.
        var gate = HoldsWriteGate ? null : this.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?.GetService<WriteGate>();
        if (gate is null)
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }

        using (await gate.EnterAsync(cancellationToken))
        {
            return await base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
        }
    }

    /// <summary>Not used: a synchronous save would wait for the write gate holding a thread.</summary>
    public override int SaveChanges(bool acceptAllChangesOnSuccess) =>
        throw new InvalidOperationException("Write with SaveChangesAsync: a synchronous save would wait for the write gate with a thread.");

    public DbSet<MessageEntity> Messages => Set<MessageEntity>();

    public DbSet<EventEntity> Events => Set<EventEntity>();

    public DbSet<RunEntity> Runs => Set<RunEntity>();

    public DbSet<RunWaitEntity> RunWaits => Set<RunWaitEntity>();

    public DbSet<InstanceEntity> Instances => Set<InstanceEntity>();

    public DbSet<RunWaitRequestEntity> RunWaitRequests => Set<RunWaitRequestEntity>();

    public DbSet<SkillEntity> Skills => Set<SkillEntity>();

    public DbSet<ExpertEntity> Experts => Set<ExpertEntity>();

    public DbSet<ApiKeyEntity> ApiKeys => Set<ApiKeyEntity>();

    public DbSet<McpServerEntity> McpServers => Set<McpServerEntity>();

    public DbSet<SecretKeyEntity> SecretKeys => Set<SecretKeyEntity>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every time is stored and read back as UTC.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<SessionEntity>(e =>
        {
            e.ToTable("sessions");
            e.HasKey(s => s.Id);
            e.HasIndex(s => new { s.TenantId, s.Id });
        });
        modelBuilder.Entity<MessageEntity>(e =>
        {
            e.ToTable("messages");
            e.HasKey(m => m.Id);
            e.HasIndex(m => new { m.SessionId, m.Id });
        });
        modelBuilder.Entity<EventEntity>(e =>
        {
            e.ToTable("events");
            e.HasKey(ev => new { ev.SessionId, ev.EventId });
        });
        modelBuilder.Entity<RunEntity>(e =>
        {
            e.ToTable("runs");
            e.HasKey(r => r.Id);
            e.HasIndex(r => r.Status);
            e.HasIndex(r => r.SessionId);

            // One running run per session, whichever process runs it: what keeps two instances from starting two.
            e.HasIndex(r => r.SessionId, "IX_runs_one_running_per_session").IsUnique().HasFilter("\"Status\" = 'running'");
        });
        modelBuilder.Entity<InstanceEntity>(e =>
        {
            e.ToTable("instances");
            e.HasKey(i => i.Id);
        });
        modelBuilder.Entity<RunWaitEntity>(e =>
        {
            e.ToTable("run_waits");
            e.HasKey(w => w.RunId);
        });
        modelBuilder.Entity<RunWaitRequestEntity>(e =>
        {
            e.ToTable("run_wait_requests");
            e.HasKey(w => new { w.RunId, w.RequestId });
        });
        modelBuilder.Entity<SkillEntity>(e =>
        {
            e.ToTable("skills");
            e.HasKey(s => new { s.TenantId, s.Name });
        });
        modelBuilder.Entity<ExpertEntity>(e =>
        {
            e.ToTable("experts");
            e.HasKey(x => new { x.TenantId, x.Name });
        });
        modelBuilder.Entity<ApiKeyEntity>(e =>
        {
            e.ToTable("api_keys");
            e.HasKey(k => k.Id);
            e.HasIndex(k => k.KeyHash).IsUnique();
        });
        modelBuilder.Entity<McpServerEntity>(e =>
        {
            e.ToTable("mcp_servers");
            e.HasKey(m => new { m.TenantId, m.Name });
        });
        modelBuilder.Entity<SecretKeyEntity>(e =>
        {
            e.ToTable("secret_keys");
            e.HasKey(k => k.Id);
            e.HasIndex(k => k.FriendlyName).IsUnique();
        });
    }

    /// <summary>A time as the database keeps it: in UTC. Writes that go around the model (plain SQL) store times through this too.</summary>
    public static DateTime ToStored(DateTime at) => at.Kind == DateTimeKind.Utc ? at : at.ToUniversalTime();

    private sealed class UtcConverter() : ValueConverter<DateTime, DateTime>(
        v => ToStored(v),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
