using System.Collections.Concurrent;
using StackExchange.Redis;

namespace Conclave.Cluster.Redis;

/// <summary>
/// Values kept for a short while under a key, each taken at most once: what one instance puts, any instance of the
/// service may take (a chat ticket issued through one instance opens a socket on another).
/// </summary>
public interface ISingleUseValues
{
    /// <summary>Keeps <paramref name="value"/> under <paramref name="key"/> for <paramref name="lifetime"/>.</summary>
    Task PutAsync(string key, string value, TimeSpan lifetime, CancellationToken cancellationToken = default);

    /// <summary>The value, removed as it is read, so that one taker at most gets it; null when unknown, taken or expired.</summary>
    Task<string?> TakeAsync(string key, CancellationToken cancellationToken = default);
}

/// <summary>
/// One instance alone: the values in this process's memory. Expired ones are dropped at most once a lifetime, so no
/// value is kept two lifetimes untaken, and one scan is shared by every value put in between.
/// </summary>
public sealed class InProcessSingleUseValues(TimeProvider time) : ISingleUseValues
{
    private readonly ConcurrentDictionary<string, (string Value, DateTimeOffset ExpiresAt)> _values = new(StringComparer.Ordinal);
    private long _nextSweepTicks;

    public Task PutAsync(string key, string value, TimeSpan lifetime, CancellationToken cancellationToken = default)
    {
        var now = time.GetUtcNow();
        SweepExpired(now, lifetime);
        _values[key] = (value, now + lifetime);
        return Task.CompletedTask;
    }

    public Task<string?> TakeAsync(string key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_values.TryRemove(key, out var kept) && kept.ExpiresAt > time.GetUtcNow() ? kept.Value : null);

    private void SweepExpired(DateTimeOffset now, TimeSpan lifetime)
    {
        var due = Interlocked.Read(ref _nextSweepTicks);
        if (now.UtcTicks < due || Interlocked.CompareExchange(ref _nextSweepTicks, (now + lifetime).UtcTicks, due) != due)
        {
            return;
        }

        foreach (var entry in _values.Where(e => e.Value.ExpiresAt <= now).ToList())
        {
            _values.TryRemove(entry);
        }
    }
}

/// <summary>Several instances: the values in Redis, with Redis's own expiry, taken by <c>GETDEL</c> (one taker wins).</summary>
internal sealed class RedisSingleUseValues(RedisBus bus, RedisClusterOptions options) : ISingleUseValues
{
    public Task PutAsync(string key, string value, TimeSpan lifetime, CancellationToken cancellationToken = default) =>
        bus.Database.StringSetAsync(KeyOf(key), value, lifetime);

    public async Task<string?> TakeAsync(string key, CancellationToken cancellationToken = default) =>
        await bus.Database.StringGetDeleteAsync(KeyOf(key));

    private RedisKey KeyOf(string key) => $"{options.ChannelPrefix}:once:{key}";
}
