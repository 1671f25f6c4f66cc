using Conclave.Storage;
using System.Security.Claims;

namespace Conclave.Server.Auth;

/// <summary>Who made a request: the key, the tenant it belongs to, and whether it is the admin key.</summary>
internal sealed record Caller(string KeyId, string TenantId, bool IsAdmin)
{
    public const string AdminTenant = Tenants.Admin;
    public const string KeyIdClaim = "conclave:key_id";
    public const string TenantClaim = "conclave:tenant";
    public const string AdminRole = "admin";

    /// <summary>The tenant a key belongs to: a tenant key is a tenant of its own; the admin key is the admin tenant.</summary>
    public static string TenantOfKey(string keyId, bool isAdmin) => isAdmin ? AdminTenant : keyId;

    public ClaimsPrincipal ToPrincipal(string scheme) => new(new ClaimsIdentity(
        [
            new Claim(KeyIdClaim, KeyId),
            new Claim(TenantClaim, TenantId),
            .. IsAdmin ? new[] { new Claim(ClaimTypes.Role, AdminRole) } : [],
        ],
        scheme));

    public static Caller From(ClaimsPrincipal user) => new(
        user.FindFirstValue(KeyIdClaim) ?? throw new InvalidOperationException("The request is not authenticated."),
        user.FindFirstValue(TenantClaim) ?? throw new InvalidOperationException("The request is not authenticated."),
        user.IsInRole(AdminRole));
}
