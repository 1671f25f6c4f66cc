using System.ComponentModel;
using System.Text;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tools;

/// <summary>The workspace tools: <c>read_file</c>, <c>list_files</c> and <c>write_file</c>.</summary>
public sealed class FileTools(IOptions<ToolOptions> options)
{
    private readonly ToolOptions _options = options.Value;

    /// <summary>Reads a text file.</summary>
    [Description("Reads a text file from the session's workspace.")]
    public async Task<string> ReadFileAsync(
        [Description("Path of the file, relative to the workspace.")] string path,
        AIFunctionArguments arguments,
        CancellationToken cancellationToken)
    {
        var full = ToolContext.From(arguments).Workspace.Resolve(path);
        if (!File.Exists(full))
        {
            throw new ToolException($"'{path}' does not exist.");
        }

        await using var stream = new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 4096, useAsync: true);
        var buffer = new byte[(int)Math.Min(stream.Length, _options.MaxReadBytes)];
        await stream.ReadExactlyAsync(buffer, cancellationToken);
        var text = stream.Length > _options.MaxReadBytes ? Utf8Text.DecodeCut(buffer) : Encoding.UTF8.GetString(buffer);
        return stream.Length > _options.MaxReadBytes
            ? $"{text}\n[truncated: the file has {stream.Length} bytes, the limit is {_options.MaxReadBytes}]"
            : text;
    }

    /// <summary>Lists a folder.</summary>
    [Description("Lists the files and folders in a folder of the session's workspace. Folders end with '/'.")]
    public string ListFiles(
        AIFunctionArguments arguments,
        [Description("Path of the folder, relative to the workspace; the workspace itself when left out.")] string? path = null)
    {
        var workspace = ToolContext.From(arguments).Workspace;
        var full = workspace.Resolve(path);
        if (!Directory.Exists(full))
        {
            if (full == workspace.Root)
            {
                return "(empty)";
            }

            throw new ToolException($"'{path}' is not a folder.");
        }

        var entries = new DirectoryInfo(full).EnumerateFileSystemInfos()
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .Take(_options.MaxListEntries + 1)
            .Select(e => e is DirectoryInfo ? workspace.ToRelative(e.FullName) + "/" : workspace.ToRelative(e.FullName))
            .ToList();
        if (entries.Count > _options.MaxListEntries)
        {
            entries[^1] = $"[more entries not shown: the limit is {_options.MaxListEntries}]";
        }

        return entries.Count == 0 ? "(empty)" : string.Join('\n', entries);
    }

    /// <summary>Writes a text file.</summary>
    [Description("Writes a text file in the session's workspace, replacing it if it exists.")]
    public async Task<string> WriteFileAsync(
        [Description("Path of the file, relative to the workspace.")] string path,
        [Description("The whole text to write.")] string content,
        AIFunctionArguments arguments,
        CancellationToken cancellationToken)
    {
        var workspace = ToolContext.From(arguments).Workspace;
        var full = workspace.Resolve(path);
        if (full == workspace.Root || Directory.Exists(full))
        {
            throw new ToolException($"'{path}' is a folder.");
        }

        var bytes = Encoding.UTF8.GetBytes(content);
        if (bytes.Length > _options.MaxWriteBytes)
        {
            throw new ToolException($"The content has {bytes.Length} bytes; the limit is {_options.MaxWriteBytes}.");
        }

        workspace.EnsureCreated();
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);

        // Written beside the file, then moved over it in one step: a run stopped midway leaves the file as it was,
        // and once moved the write is done whatever comes after.
        var temporary = Path.Combine(folder, $".conclave-{Path.GetRandomFileName()}.tmp");
        try
        {
            await File.WriteAllBytesAsync(temporary, bytes, cancellationToken);
            File.Move(temporary, full, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        return $"Wrote {bytes.Length} bytes to {workspace.ToRelative(full)}.";
    }
}
