using System.Text;

namespace Conclave.Agents.Tools;

/// <summary>Decodes bytes that a size limit may have cut in the middle of a character.</summary>
public static class Utf8Text
{
    /// <summary>Decodes <paramref name="bytes"/>, leaving out a last character the cut left incomplete.</summary>
    public static string DecodeCut(ReadOnlySpan<byte> bytes)
    {
        // Step back over continuation bytes (10xxxxxx) to the lead byte of the last character.
        var lead = bytes.Length - 1;
        while (lead >= 0 && lead > bytes.Length - 4 && (bytes[lead] & 0xC0) == 0x80)
        {
            lead--;
        }

        if (lead >= 0)
        {
            var b = bytes[lead];
            var expected = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : (b & 0xF8) == 0xF0 ? 4 : 1;
            if (bytes.Length - lead < expected)
            {
                bytes = bytes[..lead];
            }
        }

        return Encoding.UTF8.GetString(bytes);
    }
}
