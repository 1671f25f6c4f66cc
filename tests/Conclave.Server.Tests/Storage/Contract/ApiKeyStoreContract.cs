using Conclave.Storage;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What every API key store must do, whatever the engine behind it.</summary>
public abstract class ApiKeyStoreContract
{
    private static readonly DateTime At = new(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc);

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task AKeyIsFoundByItsHashUntilItIsRevokedAndListedEitherWay()
    {
        await using var storage = await StartAsync();
        var key = new ApiKeyRecord("key_1", "ci", [1, 2, 3], "ck_abc", IsAdmin: false, At, RevokedAt: null);
        await storage.Keys.AddAsync(key);

        var found = await storage.Keys.FindActiveByHashAsync([1, 2, 3]);
        var wrongHash = await storage.Keys.FindActiveByHashAsync([1, 2, 4]);
        var revoked = await storage.Keys.RevokeAsync("key_1", At.AddHours(1));
        var revokedAgain = await storage.Keys.RevokeAsync("key_1", At.AddHours(2));

        Assert.Equal(key.Id, found?.Id);
        Assert.Equal(key.KeyHash, found?.KeyHash);
        Assert.Null(wrongHash);
        Assert.True(revoked);
        Assert.False(revokedAgain);
        Assert.Null(await storage.Keys.FindActiveByHashAsync([1, 2, 3]));
        Assert.Null(await storage.Keys.FindActiveAsync("key_1"));
        Assert.Equal(At.AddHours(1), Assert.Single(await storage.Keys.ListAsync(), k => k.Id == "key_1").RevokedAt);
    }

    [Fact]
    public async Task AnActiveAdminKeyIsTold()
    {
        await using var storage = await StartAsync();
        var before = await storage.Keys.HasActiveAdminAsync();
        await storage.Keys.AddAsync(new ApiKeyRecord("key_admin", "admin", [9], "ck_adm", IsAdmin: true, At, RevokedAt: null));

        Assert.False(before); // the test server's admin key is configured, not stored
        Assert.True(await storage.Keys.HasActiveAdminAsync());
    }
}
