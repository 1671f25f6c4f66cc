using Conclave.Agents.Events;
using Conclave.Agents.Runs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Conclave.Cluster.Redis;

/// <summary>Makes this process one of several instances on one database, joined through Redis.</summary>
public static class RedisCluster
{
    /// <summary>
    /// Replaces the in-process event hub, run control, notices and single-use values with ones that reach the other instances through Redis,
    /// and has the event writer publish each event only once it is stored (no other instance could read this one's
    /// journal). The host registers the <see cref="IInstanceNoticeHandler"/> that acts on other instances' notices.
    /// </summary>
    public static IServiceCollection AddConclaveRedisCluster(this IServiceCollection services, RedisClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        services.AddSingleton(options);
        services.AddSingleton<RedisBus>();
        services.AddSingleton<IClusterProbe>(sp => sp.GetRequiredService<RedisBus>());
        services.Replace(ServiceDescriptor.Singleton<IInstanceNotices, RedisInstanceNotices>());
        services.Replace(ServiceDescriptor.Singleton<ISingleUseValues, RedisSingleUseValues>());
        services.AddHostedService<InstanceLease>();
        services.AddHostedService<RemoteControl>();
        services.AddHostedService(sp => sp.GetRequiredService<RedisBus>());
        services.Replace(ServiceDescriptor.Singleton<ISessionEventHub, RedisSessionEventHub>());
        services.Replace(ServiceDescriptor.Singleton<IRunControl, RedisRunControl>());
        services.PostConfigure<EventWriterOptions>(events => events.PublishOnceStored = true);
        return services;
    }
}
