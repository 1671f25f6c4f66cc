using System.Buffers;
using System.IO.Hashing;
using System.Text;

namespace Conclave.Agents.Tools;

/// <summary>
/// Tool names as models are offered them. OpenAI and Anthropic take only letters, digits, '_' and '-', at most 64 of
/// them, so a namespaced name such as <c>fs.read_file</c> is offered as <c>fs__read_file</c>; a name that is already
/// fit is kept as it is.
/// </summary>
public static class ModelToolNames
{
    /// <summary>The longest tool name every provider takes.</summary>
    public const int MaxLength = 64;

    private static readonly SearchValues<char> Allowed =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");

    /// <summary>The name under which a tool named <paramref name="name"/> is offered to the model.</summary>
    public static string For(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length is > 0 and <= MaxLength && name.AsSpan().IndexOfAnyExcept(Allowed) < 0)
        {
            return name;
        }

        var fitted = new StringBuilder(name.Length + 4);
        foreach (var c in name)
        {
            fitted.Append(c == '.' ? "__" : Allowed.Contains(c) ? c.ToString() : "_");
        }

        if (fitted.Length <= MaxLength && fitted.Length > 0)
        {
            return fitted.ToString();
        }

        // Too long: the start, then a hash of the whole name, so that two long names that share a start stay apart.
        var hash = Convert.ToHexStringLower(BitConverter.GetBytes(XxHash32.HashToUInt32(Encoding.UTF8.GetBytes(name))));
        return string.Concat(fitted.ToString().AsSpan(0, Math.Min(fitted.Length, MaxLength - hash.Length - 1)), "_", hash);
    }
}
