using System.Xml.Linq;
using Conclave.Storage.EntityFramework;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What the Data Protection key ring in the database must do: every instance on one database shares it.</summary>
public abstract class KeyRingContract
{
    private const string ApplicationName = "conclave-key-ring-test";

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task ElementsOneInstanceStoresAreReadBackWholeByAnother()
    {
        await using var storage = await StartAsync();
        var first = XElement.Parse(
            """<key id="6f1c2a8e-0000-4000-8000-000000000001" version="1" xmlns:x="urn:conclave:test"><creationDate>2026-12-06T20:00:00Z</creationDate><descriptor deserializerType="A.B, C"><x:secret x:kind="plain">&lt;not markup&gt; &amp; "quoted"  two  spaces</x:secret></descriptor></key>""",
            LoadOptions.PreserveWhitespace);
        var second = XElement.Parse(
            """<revocation version="1"><revocationDate>2026-12-06T21:00:00Z</revocationDate><key id="6f1c2a8e-0000-4000-8000-000000000001" /><reason>éè — ünïcode</reason></revocation>""",
            LoadOptions.PreserveWhitespace);

        await using (var writer = NewInstance(storage))
        {
            var repository = RepositoryOf(writer);
            repository.StoreElement(first, "key-6f1c2a8e-0000-4000-8000-000000000001");
            repository.StoreElement(second, "revocation-6f1c2a8e-0000-4000-8000-000000000001");
        }

        await using var reader = NewInstance(storage);
        var read = RepositoryOf(reader).GetAllElements().Select(e => e.ToString(SaveOptions.DisableFormatting)).ToList();

        Assert.Contains(first.ToString(SaveOptions.DisableFormatting), read);
        Assert.Contains(second.ToString(SaveOptions.DisableFormatting), read);
        Assert.True(
            read.IndexOf(first.ToString(SaveOptions.DisableFormatting)) < read.IndexOf(second.ToString(SaveOptions.DisableFormatting)),
            "the elements come back in the order they were stored");
    }

    [Fact]
    public async Task StoringAnElementUnderAStoredNameReplacesIt()
    {
        await using var storage = await StartAsync();
        await using (var writer = NewInstance(storage))
        {
            RepositoryOf(writer).StoreElement(new XElement("revocation", new XElement("reason", "first")), "revocation-20261206T200000Z");
            RepositoryOf(writer).StoreElement(new XElement("revocation", new XElement("reason", "second")), "revocation-20261206T200000Z");
        }

        await using var reader = NewInstance(storage);
        var reasons = RepositoryOf(reader).GetAllElements().Where(e => e.Name == "revocation").Select(e => (string?)e.Element("reason"));

        Assert.Equal(["second"], reasons);
    }

    [Fact]
    public async Task WhatOneInstanceProtectsAnotherOnTheSameDatabaseUnprotects()
    {
        await using var storage = await StartAsync();
        string protectedText;
        List<Guid> keysOfFirst;
        await using (var first = NewInstance(storage))
        {
            protectedText = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("mcp-secrets").Protect("ghp_secret token");
            keysOfFirst = [.. first.GetRequiredService<IKeyManager>().GetAllKeys().Select(k => k.KeyId)];
        }

        await using var second = NewInstance(storage);
        var unprotected = second.GetRequiredService<IDataProtectionProvider>().CreateProtector("mcp-secrets").Unprotect(protectedText);
        var keysInDatabase = RepositoryOf(second).GetAllElements()
            .Where(e => e.Name == "key")
            .Select(e => Guid.Parse((string)e.Attribute("id")!))
            .ToHashSet();

        Assert.Equal("ghp_secret token", unprotected);
        Assert.NotEmpty(keysOfFirst);
        Assert.Subset(keysInDatabase, keysOfFirst.ToHashSet());
    }

    [Fact]
    public async Task AnInstanceUnprotectsWithAKeyAnotherMadeAfterItHadReadTheRing()
    {
        await using var storage = await StartAsync();
        await using var first = NewInstance(storage);
        await using var second = NewInstance(storage);
        var firstProtector = first.GetRequiredService<IDataProtectionProvider>().CreateProtector("mcp-secrets");
        var secondProtector = second.GetRequiredService<IDataProtectionProvider>().CreateProtector("mcp-secrets");
        _ = firstProtector.Protect("reads the ring, and keeps it");

        // As when two instances start on an empty ring at once, or one rotates the key: the other's cached ring lacks it.
        var made = second.GetRequiredService<IKeyManager>().CreateNewKey(DateTimeOffset.UtcNow, DateTimeOffset.UtcNow.AddDays(90));
        var fromSecond = secondProtector.Protect("from the second instance");

        Assert.Equal(made.KeyId, new Guid(WebEncoders.Base64UrlDecode(fromSecond).AsSpan(4, 16)));
        Assert.Equal("from the second instance", firstProtector.Unprotect(fromSecond));
    }

    /// <summary>Another instance on the same database: its own services, context factory and key ring.</summary>
    private static ServiceProvider NewInstance(IStorageUnderTest storage)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        storage.AddStorageOnSameDatabase(services);
        services.AddDataProtection().SetApplicationName(ApplicationName).PersistKeysToConclaveStorage();
        return services.BuildServiceProvider();
    }

    private static IXmlRepository RepositoryOf(IServiceProvider instance) =>
        instance.GetRequiredService<IOptions<KeyManagementOptions>>().Value.XmlRepository
        ?? throw new InvalidOperationException("The key ring is not kept in Conclave's storage.");
}
