namespace Conclave.Storage;

/// <summary>Tenants with a meaning of their own.</summary>
public static class Tenants
{
    /// <summary>
    /// The admin key's tenant. What the admin registers there for every tenant (MCP servers) is the operator's, and
    /// reaches every tenant's runs.
    /// </summary>
    public const string Admin = "admin";
}
