namespace Conclave.Cluster.Redis;

/// <summary>Whether this instance reaches the others (Redis answers), for readiness checks.</summary>
public interface IClusterProbe
{
    /// <summary>Completes when Redis answered a ping; throws when it does not.</summary>
    Task CheckAsync(CancellationToken cancellationToken = default);
}
