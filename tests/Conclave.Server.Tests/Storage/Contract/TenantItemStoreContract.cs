using Conclave.Agents.Skills;
using Conclave.Storage;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What every store of a tenant's named items must do (shown with skills; experts share the implementation).</summary>
public abstract class TenantItemStoreContract
{
    private static readonly DateTime At = new(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc);

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task AnItemIsTheTenantsOwnAddedOnceReplacedInPlaceAndDeleted()
    {
        await using var storage = await StartAsync();
        var poet = new Skill("poet", "writes", ["poem"], "Be a poet.", ["calculator"], null, "m1", 0, 60);
        var added = await storage.Skills.AddAsync("t1", poet, At);
        var again = await storage.Skills.AddAsync("t1", poet with { Description = "other" }, At.AddMinutes(1));
        var otherTenant = await storage.Skills.AddAsync("t2", poet with { Instructions = "Theirs." }, At);
        var replaced = await storage.Skills.PutAsync("t1", poet with { Keywords = ["verse"], Tools = null }, At.AddHours(1));
        var listed = await storage.Skills.ListAsync("t1");
        var deleted = await storage.Skills.DeleteAsync("t1", "poet");
        var deletedAgain = await storage.Skills.DeleteAsync("t1", "poet");

        Assert.NotNull(added);
        Assert.Equal(poet, added.Item with { Keywords = poet.Keywords, Tools = poet.Tools });
        Assert.Equal(["poem"], added.Item.Keywords);
        Assert.Equal(["calculator"], added.Item.Tools);
        Assert.Null(again);
        Assert.Equal("Theirs.", otherTenant?.Item.Instructions);
        Assert.Equal((At, At.AddHours(1)), (replaced.CreatedAt, replaced.UpdatedAt));
        Assert.Equal(["verse"], replaced.Item.Keywords);
        Assert.Null(replaced.Item.Tools);
        Assert.Equal(["poet"], listed.Select(s => s.Item.Name));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(await storage.Skills.FindAsync("t1", "poet"));
        Assert.Equal("Theirs.", (await storage.Skills.FindAsync("t2", "poet"))?.Item.Instructions);
    }
}
