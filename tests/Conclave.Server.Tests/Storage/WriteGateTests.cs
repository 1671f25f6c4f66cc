using Conclave.Storage.EntityFramework;
using Conclave.Storage.Sqlite;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Conclave.Server.Tests.Storage;

public sealed class WriteGateTests
{
    [Fact]
    public async Task ASaveWaitsForTheGateAndAFailedSaveLetsTheNextOneIn()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var gate = server.Services.GetRequiredService<WriteGate>();
        var contexts = server.Services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>();

        Task<int> waiting;
        using (await gate.EnterAsync())
        {
            waiting = SaveSessionAsync(contexts, "sess_gate_1");
            await Task.Delay(200);
            Assert.False(waiting.IsCompleted);
        }

        Assert.Equal(1, await waiting.WaitAsync(TimeSpan.FromSeconds(5)));

        // The same id again: the save fails, and the gate is free for the next one.
        await Assert.ThrowsAsync<DbUpdateException>(() => SaveSessionAsync(contexts, "sess_gate_1"));
        Assert.Equal(1, await SaveSessionAsync(contexts, "sess_gate_2").WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ASaveCancelledWhileWaitingLeavesTheGateToItsHolder()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var gate = server.Services.GetRequiredService<WriteGate>();
        var contexts = server.Services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>();

        Task<int> next;
        using (await gate.EnterAsync())
        {
            using var cancel = new CancellationTokenSource();
            var cancelled = SaveSessionAsync(contexts, "sess_gate_3", cancel.Token);
            await cancel.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);

            next = SaveSessionAsync(contexts, "sess_gate_4");
            await Task.Delay(200);
            Assert.False(next.IsCompleted);
        }

        Assert.Equal(1, await next.WaitAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ASaveThatFindsItsRowGoneLetsTheNextOneIn()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var contexts = server.Services.GetRequiredService<IDbContextFactory<ConclaveDbContext>>();
        await SaveSessionAsync(contexts, "sess_gate_5");

        await using (var db = await contexts.CreateDbContextAsync())
        {
            var session = await db.Sessions.SingleAsync(s => s.Id == "sess_gate_5");
            await using (var other = await contexts.CreateDbContextAsync())
            {
                await other.Sessions.Where(s => s.Id == "sess_gate_5").ExecuteDeleteAsync();
            }

            session.Title = "renamed";
            await Assert.ThrowsAsync<DbUpdateConcurrencyException>(() => db.SaveChangesAsync());
        }

        Assert.Equal(1, await SaveSessionAsync(contexts, "sess_gate_6").WaitAsync(TimeSpan.FromSeconds(5)));
    }

    private static async Task<int> SaveSessionAsync(IDbContextFactory<ConclaveDbContext> contexts, string id, CancellationToken cancellationToken = default)
    {
        await using var db = await contexts.CreateDbContextAsync(CancellationToken.None);
        db.Sessions.Add(new SessionEntity { Id = id, TenantId = "admin", CreatedAt = DateTime.UtcNow, UpdatedAt = DateTime.UtcNow });
        return await db.SaveChangesAsync(cancellationToken);
    }
}
