using System.ComponentModel.DataAnnotations;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Conclave.Server.Options;

/// <summary>Top-level settings (<c>Conclave</c>).</summary>
internal sealed class ConclaveOptions
{
    public const string Section = "Conclave";

    /// <summary>The folder of the SQLite database and the session workspaces.</summary>
    [Required(AllowEmptyStrings = false)]
    public string DataDir { get; set; } = "./data";

    /// <summary>The full path of <see cref="DataDir"/>.</summary>
    public string DataPath => Path.GetFullPath(DataDir);
}

/// <summary>Browser origins allowed to call the API and open sockets (<c>Conclave:Cors</c>).</summary>
internal sealed class CorsOptions
{
    public const string Section = "Conclave:Cors";

    /// <summary>Allowed origins such as <c>https://chat.example.com</c>. The server's own origin is always allowed.</summary>
    public List<string> Origins { get; set; } = [];
}

/// <summary>Where sessions, runs and events are stored.</summary>
internal enum StorageProvider
{
    /// <summary>One SQLite file in the data folder: one process on one machine.</summary>
    Sqlite,

    /// <summary>A PostgreSQL database (<see cref="StorageOptions.ConnectionString"/>).</summary>
    Postgres,
}

/// <summary>Storage settings (<c>Conclave:Storage</c>).</summary>
internal sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Conclave:Storage";

    /// <summary>Which database: <c>Sqlite</c> (the default) or <c>Postgres</c>.</summary>
    public StorageProvider Provider { get; set; } = StorageProvider.Sqlite;

    /// <summary>The PostgreSQL connection string (Npgsql's keywords); required with <c>Postgres</c>, not used otherwise.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>How long a statement waits for a locked SQLite database before failing.</summary>
    [Range(0, 600_000)]
    public int BusyTimeoutMs { get; set; } = 5_000;

    /// <summary>
    /// The fewest thread-pool threads the server keeps ready (the runtime keeps one a processor; this raises it).
    /// SQLite runs in the process and each call holds its thread until it returns, and a run whose model always has its
    /// next token ready holds one while it streams; without spare threads the sockets' sends wait behind them. More
    /// than needed costs latency on a busy server: the threads share the processors in turns, and a token's send may wait
    /// for the turn of every other thread with work (BENCHMARKS.md, 2026-12-08).
    /// </summary>
    [Range(1, 1_024)]
    public int MinThreads { get; set; } = 4;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(ConnectionString))
        {
            yield return new ValidationResult(
                "Conclave:Storage:ConnectionString is required when Conclave:Storage:Provider is Postgres.", [nameof(ConnectionString)]);
        }
    }
}

/// <summary>Several instances on one database, joined through Redis (<c>Conclave:Cluster</c>).</summary>
internal sealed class ClusterOptions
{
    public const string Section = "Conclave:Cluster";

    /// <summary>
    /// The Redis server the instances share (StackExchange.Redis's configuration string, e.g. <c>redis:6379</c>); empty for
    /// one instance alone. Requires <c>Conclave:Storage:Provider</c> <c>Postgres</c>.
    /// </summary>
    public string? Redis { get; set; }

    /// <summary>The start of the Redis channels' names, so that deployments may share one Redis server.</summary>
    [Required(AllowEmptyStrings = false)]
    public string ChannelPrefix { get; set; } = "conclave";

    /// <summary>How long a <c>cancel</c> or an answer sent to this instance waits for the instance running the run.</summary>
    [Range(100, 60_000)]
    public int ControlTimeoutMs { get; set; } = 2_000;

    /// <summary>How often an instance records that it is alive, and looks for runs of instances that are not.</summary>
    [Range(1, 60)]
    public int HeartbeatSeconds { get; set; } = 2;

    /// <summary>
    /// An instance not heard from for this long is taken for dead: its streaming runs are ended, and its waiting runs
    /// taken up, by another instance. At least three heartbeats.
    /// </summary>
    [Range(3, 600)]
    public int OwnerTimeoutSeconds { get; set; } = 10;
}

/// <summary>
/// How the Data Protection key ring, which encrypts the secrets of MCP server registrations, is itself kept
/// (<c>Conclave:KeyRing</c>). The ring is stored in the database; without a certificate its keys are stored as they are,
/// so whoever reads the whole database can decrypt the secrets.
/// </summary>
internal sealed class KeyRingOptions
{
    public const string Section = "Conclave:KeyRing";

    /// <summary>
    /// A PKCS#12 (<c>.pfx</c>) file holding a certificate with its RSA private key: each new key of the ring is encrypted
    /// to it before it is stored, and read back with it. Every instance on the database needs the same file.
    /// </summary>
    public string? CertificatePath { get; set; }

    /// <summary>The password of <see cref="CertificatePath"/>, if the file has one.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>The certificate <see cref="CertificatePath"/> names, or null when none is set.</summary>
    /// <exception cref="SettingsException">The file cannot be read, or holds no RSA private key.</exception>
    public X509Certificate2? LoadCertificate()
    {
        const string PathSetting = Section + ":" + nameof(CertificatePath);
        if (string.IsNullOrWhiteSpace(CertificatePath))
        {
            return string.IsNullOrEmpty(CertificatePassword)
                ? null
                : throw new SettingsException([$"{Section}:{nameof(CertificatePassword)} is set, but {PathSetting} is not."]);
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509CertificateLoader.LoadPkcs12FromFile(CertificatePath, CertificatePassword);
        }
        catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
        {
            throw new SettingsException([$"{PathSetting} '{CertificatePath}' could not be read as a PKCS#12 (.pfx) file with its password: {e.Message}"]);
        }

        using var privateKey = certificate.GetRSAPrivateKey();
        if (privateKey is null)
        {
            certificate.Dispose();
            throw new SettingsException([$"{PathSetting} '{CertificatePath}' holds no RSA private key: the key ring is encrypted to an RSA key, and read back with its private half."]);
        }

        return certificate;
    }
}
