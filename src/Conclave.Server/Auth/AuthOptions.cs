namespace Conclave.Server.Auth;

/// <summary>Key settings (<c>Conclave:Auth</c>).</summary>
internal sealed class AuthOptions
{
    public const string Section = "Conclave:Auth";

    /// <summary>The admin key. When unset, the first start generates one, stores its hash and prints it once.</summary>
    public string? AdminKey { get; set; }
}
