namespace Conclave.Server.Tests.Infrastructure;

/// <summary>
/// Two Conclave servers as one service: a fresh PostgreSQL database both store in, and the Redis server that
/// <c>./test.sh</c> starts (named by <c>CONCLAVE_TEST_REDIS</c>) joining them, on channels of their own.
/// </summary>
internal sealed class TwoInstances : IAsyncDisposable
{
    public const string RedisVariable = "CONCLAVE_TEST_REDIS";

    private readonly PostgresDatabase _database;

    private TwoInstances(PostgresDatabase database, ConclaveTestServer a, ConclaveTestServer b, IDictionary<string, string?> settings)
    {
        _database = database;
        A = a;
        B = b;
        Settings = settings;
    }

    public ConclaveTestServer A { get; }

    public ConclaveTestServer B { get; }

    /// <summary>The settings both share, for another instance of the same service.</summary>
    public IDictionary<string, string?> Settings { get; }

    public static async Task<TwoInstances> StartAsync(IDictionary<string, string?>? extra = null)
    {
        var database = await PostgresDatabase.CreateAsync();
        var settings = SettingsFor(database, extra);
        var a = await ConclaveTestServer.StartAsync(settings);
        var b = await ConclaveTestServer.StartAsync(settings);
        return new TwoInstances(database, a, b, settings);
    }

    /// <summary>The settings of an instance of the service on <paramref name="database"/>, on channels of its own.</summary>
    public static Dictionary<string, string?> SettingsFor(PostgresDatabase database, IDictionary<string, string?>? extra = null)
    {
        var redis = Environment.GetEnvironmentVariable(RedisVariable);
        if (string.IsNullOrWhiteSpace(redis))
        {
            throw new InvalidOperationException(
                $"{RedisVariable} is not set: ./test.sh starts Redis and sets it (or leave these tests out with --filter Category!=Cluster).");
        }

        var settings = new Dictionary<string, string?>(database.Settings)
        {
            ["Conclave:Cluster:Redis"] = redis,
            ["Conclave:Cluster:ChannelPrefix"] = $"conclave-test-{Guid.NewGuid():N}",
        };
        foreach (var (name, value) in extra ?? new Dictionary<string, string?>())
        {
            settings[name] = value;
        }

        return settings;
    }

    /// <summary>Settings as a server process's environment variables.</summary>
    public static Dictionary<string, string> AsEnvironment(IDictionary<string, string?> settings) =>
        settings.ToDictionary(s => s.Key.Replace(":", "__", StringComparison.Ordinal), s => s.Value ?? string.Empty);

    public async ValueTask DisposeAsync()
    {
        await A.DisposeAsync();
        await B.DisposeAsync();
        await _database.DisposeAsync();
    }
}
