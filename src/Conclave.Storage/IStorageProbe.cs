namespace Conclave.Storage;

/// <summary>Whether storage answers, for readiness checks.</summary>
public interface IStorageProbe
{
    /// <summary>Completes when storage answered a trivial query; throws when it does not.</summary>
    Task CheckAsync(CancellationToken cancellationToken = default);
}
