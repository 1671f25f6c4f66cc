using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Conclave.Server.Options;
using Conclave.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Tests.Mcp;

/// <summary>
/// The key ring that encrypts MCP registrations' secrets, stored in the database: encrypted to the certificate of
/// <c>Conclave:KeyRing:CertificatePath</c> when there is one.
/// </summary>
public sealed class KeyRingCertificateTests : IDisposable
{
    private const string Purpose = "Conclave.Mcp.ServerSecrets.v1";
    private const string Password = "key-ring test password";

    private readonly TempDataDir _folder = new();

    [Fact]
    public async Task WithACertificateTheRingsKeysAreStoredEncryptedToItAndReadBackAfterARestart()
    {
        var settings = CertificateSettings(WriteCertificate(withPrivateKey: true));
        var data = Path.Combine(_folder.Path, "data");
        string protectedText;
        await using (var server = await ConclaveTestServer.StartAsync(settings, dataDir: data))
        {
            protectedText = Protector(server).Protect("ghp_secret token");

            var key = Assert.Single(StoredKeys(server));
            var xml = key.ToString(SaveOptions.DisableFormatting);
            Assert.Contains("EncryptedData", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
        }

        await using var restarted = await ConclaveTestServer.StartAsync(settings, dataDir: data);
        Assert.Equal("ghp_secret token", Protector(restarted).Unprotect(protectedText));
    }

    [Fact]
    public async Task ARingStoredBeforeTheCertificateGetsOneKeyEncryptedToItAtStartAndKeepsReadingTheOlder()
    {
        var data = Path.Combine(_folder.Path, "data");
        string before;
        await using (var plain = await ConclaveTestServer.StartAsync(dataDir: data))
        {
            before = Protector(plain).Protect("stored before");
        }

        var settings = CertificateSettings(WriteCertificate(withPrivateKey: true));
        await using (var server = await ConclaveTestServer.StartAsync(settings, dataDir: data))
        {
            var keys = StoredKeys(server);
            Assert.Equal(2, keys.Count);
            var encrypted = Assert.Single(keys, k => k.ToString(SaveOptions.DisableFormatting).Contains("EncryptedData", StringComparison.Ordinal));
            Assert.NotEqual(KeyIdOf(before), Guid.Parse((string)encrypted.Attribute("id")!));
            Assert.Equal("stored before", Protector(server).Unprotect(before));
        }

        // The ring has its encrypted key now: the next start makes none.
        await using var again = await ConclaveTestServer.StartAsync(settings, dataDir: data);
        Assert.Equal(2, StoredKeys(again).Count);
    }

    [Fact]
    public async Task WithoutACertificateTheRingsKeysAreStoredAsTheyAre()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        Protector(server).Protect("ghp_secret token");

        var xml = Assert.Single(StoredKeys(server)).ToString(SaveOptions.DisableFormatting);
        Assert.Contains("<masterKey", xml, StringComparison.Ordinal);
        Assert.DoesNotContain("EncryptedData", xml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ACertificateWithoutItsPrivateKeyStopsTheStartWithALineNamingTheSetting()
    {
        var path = WriteCertificate(withPrivateKey: false);

        var error = await Assert.ThrowsAsync<SettingsException>(() => ConclaveTestServer.StartAsync(CertificateSettings(path)));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith($"Conclave:KeyRing:CertificatePath '{path}' holds no RSA private key", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AWrongPasswordStopsTheStartWithALineNamingTheSettingAndNotThePassword()
    {
        var settings = CertificateSettings(WriteCertificate(withPrivateKey: true));
        settings["Conclave:KeyRing:CertificatePassword"] = "not the password";

        var error = await Assert.ThrowsAsync<SettingsException>(() => ConclaveTestServer.StartAsync(settings));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Conclave:KeyRing:CertificatePath '", problem, StringComparison.Ordinal);
        Assert.Contains("could not be read as a PKCS#12 (.pfx) file", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("not the password", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APasswordWithoutACertificateStopsTheStart()
    {
        var error = await Assert.ThrowsAsync<SettingsException>(() => ConclaveTestServer.StartAsync(
            new Dictionary<string, string?> { ["Conclave:KeyRing:CertificatePassword"] = Password }));

        Assert.Equal(["Conclave:KeyRing:CertificatePassword is set, but Conclave:KeyRing:CertificatePath is not."], error.Problems);
    }

    public void Dispose() => _folder.Dispose();

    private static IDataProtector Protector(ConclaveTestServer server) =>
        server.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector(Purpose);

    // A protected payload starts with a 4-byte magic header, then the id of the key that protected it.
    private static Guid KeyIdOf(string protectedText) => new(WebEncoders.Base64UrlDecode(protectedText).AsSpan(4, 16));

    private static List<XElement> StoredKeys(ConclaveTestServer server) =>
        [.. server.Services.GetRequiredService<IOptions<KeyManagementOptions>>().Value.XmlRepository!.GetAllElements().Where(e => e.Name == "key")];

    private static Dictionary<string, string?> CertificateSettings(string path) => new()
    {
        ["Conclave:KeyRing:CertificatePath"] = path,
        ["Conclave:KeyRing:CertificatePassword"] = Password,
    };

    /// <summary>A self-signed RSA certificate in a password-protected PKCS#12 file, with or without its private key.</summary>
    private string WriteCertificate(bool withPrivateKey)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=conclave-key-ring-test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var path = Path.Combine(_folder.Path, withPrivateKey ? "key-ring.pfx" : "public-only.pfx");
        File.WriteAllBytes(path, (withPrivateKey ? certificate : publicOnly).Export(X509ContentType.Pkcs12, Password));
        return path;
    }
}
