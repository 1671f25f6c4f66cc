namespace Conclave.Agents.Tools;

/// <summary>
/// A session's folder for file tools. Every path is relative to it and cannot leave it:
/// absolute paths, <c>..</c> that climbs out, and links that point out are refused.
/// </summary>
public sealed class Workspace
{
    /// <summary>Creates the workspace rooted at <paramref name="root"/> (created when first written to).</summary>
    public Workspace(string root)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
    }

    /// <summary>The workspace folder's full path.</summary>
    public string Root { get; }

    /// <summary>Resolves a relative path to a full path inside the workspace, or throws <see cref="ToolException"/>.</summary>
    public string Resolve(string? relativePath)
    {
        var path = string.IsNullOrWhiteSpace(relativePath) ? "." : relativePath.Trim();
        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new ToolException("The path contains a NUL character.");
        }

        if (Path.IsPathRooted(path) || path.StartsWith('~'))
        {
            throw new ToolException($"'{path}' is absolute: paths are relative to the session's workspace.");
        }

        var full = Path.GetFullPath(Path.Combine(Root, path));
        if (!IsInside(full))
        {
            throw new ToolException($"'{path}' leaves the session's workspace.");
        }

        EnsureNoLinkLeaves(full, path);
        return full;
    }

    /// <summary>Creates the workspace folder if it does not exist yet.</summary>
    public void EnsureCreated() => Directory.CreateDirectory(Root);

    /// <summary>The path of a full path inside the workspace, relative to it, with forward slashes.</summary>
    public string ToRelative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    private bool IsInside(string full) =>
        full.Length == Root.Length
            ? string.Equals(full, Root, StringComparison.Ordinal)
            : full.StartsWith(Root, StringComparison.Ordinal) && full[Root.Length] == Path.DirectorySeparatorChar;

    // Walks every existing part of the path: a symbolic link anywhere on it must stay inside the workspace.
    private void EnsureNoLinkLeaves(string full, string shown)
    {
        var current = Root;
        var rest = full.Length > Root.Length ? full[(Root.Length + 1)..] : string.Empty;
        foreach (var part in rest.Split(Path.DirectorySeparatorChar, StringSplitOptions.RemoveEmptyEntries))
        {
            current = Path.Combine(current, part);
            FileSystemInfo info = Directory.Exists(current) ? new DirectoryInfo(current) : new FileInfo(current);
            if (!info.Exists && info.LinkTarget is null)
            {
                return;
            }

            if (info.LinkTarget is not null)
            {
                var target = info.ResolveLinkTarget(returnFinalTarget: true);
                if (target is null || !IsInside(Path.GetFullPath(target.FullName)))
                {
                    throw new ToolException($"'{shown}' goes through a link that leaves the session's workspace.");
                }
            }
        }
    }
}
