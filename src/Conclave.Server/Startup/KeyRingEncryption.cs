using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Startup;

/// <summary>
/// With <c>Conclave:KeyRing:CertificatePath</c>, makes sure that the key ring's key in use is stored encrypted to the
/// certificate. Data Protection encrypts only the keys it makes once a certificate is set, so a ring whose usable keys
/// were all stored before gets a new key at start; Data Protection makes it the key in use once it is older than its
/// propagation window (two days), so that every instance has read it first. Secrets stored under an older key stay
/// there, and the database alone can still decrypt them, until they are given again.
/// </summary>
internal sealed partial class KeyRingEncryption(
    IKeyManager keys, IOptions<KeyManagementOptions> keyManagement, TimeProvider time, ILogger<KeyRingEncryption> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var encrypted = keyManagement.Value.XmlRepository!.GetAllElements()
            .Where(e => e.Name.LocalName == "key" && e.Descendants().Any(d => d.Name.LocalName == "encryptedSecret"))
            .Select(e => Guid.TryParse((string?)e.Attribute("id"), out var id) ? id : Guid.Empty)
            .ToHashSet();
        var usable = keys.GetAllKeys().Where(k => !k.IsRevoked && k.ActivationDate <= now && k.ExpirationDate > now).ToList();
        if (usable.Count > 0 && !usable.Any(k => encrypted.Contains(k.KeyId)))
        {
            var key = keys.CreateNewKey(now, now + keyManagement.Value.NewKeyLifetime);
            LogNewKey(key.KeyId);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "The key ring had no usable key stored encrypted to Conclave:KeyRing:CertificatePath: made key {KeyId}, which protects new MCP secrets once it is two days old; secrets stored under an older key stay there until their servers are registered again")]
    private partial void LogNewKey(Guid keyId);
}
