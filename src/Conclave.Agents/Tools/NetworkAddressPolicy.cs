using System.Net;
using System.Net.Sockets;

namespace Conclave.Agents.Tools;

/// <summary>
/// Which addresses an outbound fetch may reach: public unicast only. Loopback, private, carrier-grade NAT,
/// link-local (which holds the cloud metadata address 169.254.169.254), unique-local, multicast,
/// reserved and unspecified addresses are refused, also when written as IPv4-mapped or NAT64 IPv6.
/// </summary>
public static class NetworkAddressPolicy
{
    /// <summary>Whether a fetch may connect to the address.</summary>
    public static bool IsPublic(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        if (address.IsIPv4MappedToIPv6)
        {
            return IsPublic(address.MapToIPv4());
        }

        return address.AddressFamily switch
        {
            AddressFamily.InterNetwork => IsPublicV4(address),
            AddressFamily.InterNetworkV6 => IsPublicV6(address),
            _ => false,
        };
    }

    private static bool IsPublicV4(IPAddress address)
    {
        Span<byte> b = stackalloc byte[4];
        address.TryWriteBytes(b, out _);
        return !(b[0] == 0                                  // 0.0.0.0/8 "this network"
            || b[0] == 10                                   // 10.0.0.0/8 private
            || (b[0] == 100 && (b[1] & 0xC0) == 64)         // 100.64.0.0/10 carrier-grade NAT
            || b[0] == 127                                  // 127.0.0.0/8 loopback
            || (b[0] == 169 && b[1] == 254)                 // 169.254.0.0/16 link-local, cloud metadata
            || (b[0] == 172 && (b[1] & 0xF0) == 16)         // 172.16.0.0/12 private
            || (b[0] == 192 && b[1] == 0 && b[2] == 0)      // 192.0.0.0/24 IETF protocol assignments
            || (b[0] == 192 && b[1] == 168)                 // 192.168.0.0/16 private
            || (b[0] == 198 && (b[1] & 0xFE) == 18)         // 198.18.0.0/15 benchmarking
            || b[0] >= 224);                                // multicast, reserved, broadcast
    }

    private static bool IsPublicV6(IPAddress address)
    {
        if (IPAddress.IPv6Loopback.Equals(address) || IPAddress.IPv6None.Equals(address)
            || address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast)
        {
            return false;
        }

        Span<byte> b = stackalloc byte[16];
        address.TryWriteBytes(b, out _);
        if ((b[0] & 0xFE) == 0xFC)
        {
            return false; // fc00::/7 unique-local (also fd00:ec2::254, a metadata address)
        }

        if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
        {
            return IsPublicV4(new IPAddress(b[12..])); // 64:ff9b::/96 NAT64 carries an IPv4 address
        }

        if (b[0] == 0x20 && b[1] == 0x02)
        {
            return IsPublicV4(new IPAddress(b[2..6])); // 2002::/16 6to4 carries an IPv4 address
        }

        // ::/8 holds the unspecified and IPv4-compatible addresses; only 2000::/3 is global unicast.
        return (b[0] & 0xE0) == 0x20;
    }
}
