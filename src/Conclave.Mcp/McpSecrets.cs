using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.DataProtection;

namespace Conclave.Mcp;

/// <summary>The secret part of a registration: the values of a <c>stdio</c> server's environment and of an <c>http</c> server's headers.</summary>
/// <param name="Environment">Environment variables by name.</param>
/// <param name="Headers">Headers by name.</param>
public sealed record McpSecrets(IReadOnlyDictionary<string, string> Environment, IReadOnlyDictionary<string, string> Headers)
{
    /// <summary>No secrets.</summary>
    public static McpSecrets None { get; } = new(new Dictionary<string, string>(), new Dictionary<string, string>());
}

/// <summary>
/// Encrypts a registration's secrets for storage and decrypts them to connect, with ASP.NET Core Data Protection
/// (authenticated encryption; the key ring is the host's, shared by every instance).
/// </summary>
public sealed class McpSecretProtector(IDataProtectionProvider provider)
{
    private const string Purpose = "Conclave.Mcp.ServerSecrets.v1";
    private readonly IDataProtector _protector = provider.CreateProtector(Purpose);

    /// <summary>The secrets as stored: null when there are none.</summary>
    public string? Protect(McpSecrets secrets)
    {
        ArgumentNullException.ThrowIfNull(secrets);
        return secrets.Environment.Count == 0 && secrets.Headers.Count == 0
            ? null
            : _protector.Protect(JsonSerializer.Serialize(secrets, McpSecretsJson.Default.McpSecrets));
    }

    /// <summary>The secrets <paramref name="protectedSecrets"/> holds.</summary>
    public McpSecrets Unprotect(string? protectedSecrets) =>
        protectedSecrets is null
            ? McpSecrets.None
            : JsonSerializer.Deserialize(_protector.Unprotect(protectedSecrets), McpSecretsJson.Default.McpSecrets) ?? McpSecrets.None;
}

[JsonSerializable(typeof(McpSecrets))]
internal sealed partial class McpSecretsJson : JsonSerializerContext;
