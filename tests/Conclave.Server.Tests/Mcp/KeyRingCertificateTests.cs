using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Xml.Linq;
using Conclave.Mcp;
using Conclave.Server.Options;
using Conclave.Server.Tests.Infrastructure;
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
            protectedText = Protect(server, "ghp_secret token");

            var key = Assert.Single(StoredKeys(server));
            var xml = key.ToString(SaveOptions.DisableFormatting);
            Assert.Contains("EncryptedData", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<masterKey", xml, StringComparison.Ordinal);
        }

        await using var restarted = await ConclaveTestServer.StartAsync(settings, dataDir: data);
        Assert.Equal("ghp_secret token", Unprotect(restarted, protectedText));
    }

    [Fact]
    public async Task ARingStoredBeforeTheCertificateGetsOneKeyEncryptedToItAtStartAndKeepsReadingTheOlder()
    {
        var data = Path.Combine(_folder.Path, "data");
        string before;
        await using (var plain = await ConclaveTestServer.StartAsync(dataDir: data))
        {
            before = Protect(plain, "stored before");
        }

        var settings = CertificateSettings(WriteCertificate(withPrivateKey: true));
        await using (var server = await ConclaveTestServer.StartAsync(settings, dataDir: data))
        {
            var keys = StoredKeys(server);
            Assert.Equal(2, keys.Count);
            var encrypted = Assert.Single(keys, k => k.ToString(SaveOptions.DisableFormatting).Contains("EncryptedData", StringComparison.Ordinal));
            Assert.NotEqual(KeyIdOf(before), Guid.Parse((string)encrypted.Attribute("id")!));
            Assert.Equal("stored before", Unprotect(server, before));
        }

        // The ring has its encrypted key now: the next start makes none.
        await using var again = await ConclaveTestServer.StartAsync(settings, dataDir: data);
        Assert.Equal(2, StoredKeys(again).Count);
    }

    [Fact]
    public async Task WithoutACertificateTheRingsKeysAreStoredAsTheyAre()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        Protect(server, "ghp_secret token");

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

    // Through the server's own protector of MCP secrets: a registration's environment holding the token.
    private static string Protect(ConclaveTestServer server, string token) =>
        server.Services.GetRequiredService<McpSecretProtector>().Protect(new McpSecrets(new Dictionary<string, string> { ["TOKEN"] = token }, new Dictionary<string, string>()))!;

    private static string Unprotect(ConclaveTestServer server, string protectedSecrets) =>
        server.Services.GetRequiredService<McpSecretProtector>().Unprotect(protectedSecrets).Environment["TOKEN"];

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
