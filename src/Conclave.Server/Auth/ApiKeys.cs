using System.Security.Cryptography;
using System.Text;
using Conclave.Agents;

namespace Conclave.Server.Auth;

/// <summary>Makes and hashes API keys: 256 random bits, shown once, kept only as SHA-256.</summary>
internal static class ApiKeys
{
    private const string Prefix = "ck_";

    public static string Generate() => Secret(Prefix);

    /// <summary>256 random bits, base64url, after <paramref name="prefix"/>: a key, or another secret of its kind.</summary>
    public static string Secret(string prefix) => prefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    /// <summary>The start of a key that a person can use to tell keys apart; too short to guess the rest.</summary>
    public static string Display(string key) => key.Length <= 10 ? Prefix : key[..10];

    public static string NewId() => SortableIds.New("key_");

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
