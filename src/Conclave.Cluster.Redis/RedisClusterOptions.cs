namespace Conclave.Cluster.Redis;

/// <summary>How this instance reaches the others through Redis.</summary>
/// <param name="Configuration">StackExchange.Redis's configuration string (e.g. <c>redis:6379,password=…</c>).</param>
/// <param name="ChannelPrefix">The start of every channel's name, so that deployments may share one Redis.</param>
/// <param name="ControlTimeout">How long a cancel or an answer waits for the instance running the run.</param>
public sealed record RedisClusterOptions(string Configuration, string ChannelPrefix, TimeSpan ControlTimeout);
