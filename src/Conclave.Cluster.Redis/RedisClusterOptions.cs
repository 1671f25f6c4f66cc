namespace Conclave.Cluster.Redis;

/// <summary>How this instance reaches the others through Redis, and how it tells them it is alive.</summary>
/// <param name="Configuration">StackExchange.Redis's configuration string (e.g. <c>redis:6379,password=…</c>).</param>
/// <param name="ChannelPrefix">The start of every channel's name, so that deployments may share one Redis.</param>
/// <param name="ControlTimeout">How long a cancel or an answer waits for the instance running the run.</param>
/// <param name="Heartbeat">How often the instance records in the database that it is alive, and looks for runs of instances that are not.</param>
/// <param name="OwnerTimeout">How long an instance may go unheard before its runs are taken over.</param>
public sealed record RedisClusterOptions(string Configuration, string ChannelPrefix, TimeSpan ControlTimeout, TimeSpan Heartbeat, TimeSpan OwnerTimeout);
