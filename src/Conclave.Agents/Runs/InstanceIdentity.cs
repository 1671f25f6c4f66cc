namespace Conclave.Agents.Runs;

/// <summary>
/// This process among the instances that share one database: the owner recorded with each run it executes, a new id
/// at every start (a restarted process owns none of the runs its previous life left open).
/// </summary>
public sealed class InstanceIdentity
{
    /// <summary>The id, 32 hex digits.</summary>
    public string Id { get; } = Guid.NewGuid().ToString("N");
}
