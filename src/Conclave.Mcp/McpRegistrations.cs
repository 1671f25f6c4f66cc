using System.Collections.Concurrent;
using Conclave.Storage;

namespace Conclave.Mcp;

/// <summary>
/// The MCP servers a tenant's runs may use: its own registrations and the operator's (those of the admin tenant), its
/// own taking a name before the operator's. Read from storage at most once per <see cref="CacheTime"/> per tenant, since
/// every run start asks; a change made through this instance is seen at once, one made through another instance within
/// that time.
/// </summary>
public sealed class McpRegistrations(ITenantItemStore<McpServerRegistration> store, TimeProvider time)
{
    /// <summary>How long a tenant's list is used before it is read again.</summary>
    public static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Task<Listing>> _byTenant = new(StringComparer.Ordinal);

    /// <summary>The servers the tenant's runs may use, by name.</summary>
    public async Task<IReadOnlyDictionary<string, Stored<McpServerRegistration>>> ForTenantAsync(string tenantId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(tenantId);
        var now = time.GetUtcNow();
        while (true)
        {
            var listing = _byTenant.GetOrAdd(tenantId, ReadAsync);
            Listing read;
            try
            {
                read = await listing.WaitAsync(cancellationToken);
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                _byTenant.TryRemove(KeyValuePair.Create(tenantId, listing));
                throw;
            }

            if (now - read.ReadAt < CacheTime || !_byTenant.TryRemove(KeyValuePair.Create(tenantId, listing)))
            {
                return read.Servers;
            }
        }
    }

    /// <summary>Forgets what was read for the tenant (every tenant, for the operator's), after its registrations changed.</summary>
    public void Invalidate(string tenantId)
    {
        if (tenantId == Tenants.Admin)
        {
            _byTenant.Clear();
        }
        else
        {
            _byTenant.TryRemove(tenantId, out _);
        }
    }

    private async Task<Listing> ReadAsync(string tenantId)
    {
        var readAt = time.GetUtcNow();
        var servers = new Dictionary<string, Stored<McpServerRegistration>>(StringComparer.Ordinal);
        if (tenantId != Tenants.Admin)
        {
            foreach (var server in await store.ListAsync(Tenants.Admin, CancellationToken.None))
            {
                servers[server.Item.Name] = server;
            }
        }

        foreach (var server in await store.ListAsync(tenantId, CancellationToken.None))
        {
            servers[server.Item.Name] = server;
        }

        return new Listing(servers, readAt);
    }

    private sealed record Listing(IReadOnlyDictionary<string, Stored<McpServerRegistration>> Servers, DateTimeOffset ReadAt);
}
