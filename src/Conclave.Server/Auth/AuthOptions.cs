using System.ComponentModel.DataAnnotations;

namespace Conclave.Server.Auth;

/// <summary>Key settings (<c>Conclave:Auth</c>).</summary>
internal sealed class AuthOptions
{
    public const string Section = "Conclave:Auth";

    /// <summary>The admin key. When unset, the first start generates one, stores its hash and prints it once.</summary>
    public string? AdminKey { get; set; }

    /// <summary>How long a chat ticket (<c>POST /api/v1/chat/tickets</c>) may wait for its socket, in seconds.</summary>
    [Range(1, 3600)]
    public int TicketSeconds { get; set; } = 30;
}
