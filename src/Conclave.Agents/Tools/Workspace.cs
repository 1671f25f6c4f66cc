namespace Conclave.Agents.Tools;

/// <summary>
/// A session's folder for file tools. Every path is relative to it and cannot leave it: absolute paths,
/// <c>..</c> that climbs out and links that point out are refused. Paths are resolved the way the
/// operating system will open them: component by component, following each link where it stands,
/// with <c>..</c> applied to the real folder and not to the text of the path.
/// </summary>
public sealed class Workspace
{
    private const int MaxLinks = 40;

    /// <summary>Creates the workspace rooted at <paramref name="root"/> (created when first written to).</summary>
    public Workspace(string root)
    {
        Root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(root));
    }

    /// <summary>The workspace folder's full path.</summary>
    public string Root { get; }

    /// <summary>
    /// Resolves a relative path to the real full path it names inside the workspace (links followed, so
    /// the file opened is the one checked), or throws <see cref="ToolException"/>.
    /// </summary>
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

        var (root, _) = RealPath(Root, path);
        var (full, throughLink) = RealPath(Path.Combine(Root, path), path);
        if (!IsInside(full, root))
        {
            throw new ToolException(throughLink
                ? $"'{path}' goes through a link that leaves the session's workspace."
                : $"'{path}' leaves the session's workspace.");
        }

        // The rest of the tools work on the workspace as named, so map the real root back to it.
        return full.Length == root.Length ? Root : Root + full[root.Length..];
    }

    /// <summary>Creates the workspace folder if it does not exist yet.</summary>
    public void EnsureCreated() => Directory.CreateDirectory(Root);

    /// <summary>The path of a full path inside the workspace, relative to it, with forward slashes.</summary>
    public string ToRelative(string fullPath) => Path.GetRelativePath(Root, fullPath).Replace('\\', '/');

    private static bool IsInside(string full, string root) =>
        full.Length == root.Length
            ? string.Equals(full, root, StringComparison.Ordinal)
            : full.StartsWith(root, StringComparison.Ordinal) && full[root.Length] == Path.DirectorySeparatorChar;

    /// <summary>The physical path that <paramref name="path"/> names: every link followed, every <c>..</c> taken on the real folder.</summary>
    private static (string Path, bool ThroughLink) RealPath(string path, string shown)
    {
        var links = 0;
        var pending = new Stack<string>(Split(path).Reverse());
        var current = Path.GetPathRoot(Path.GetFullPath(path)) ?? "/";
        while (pending.TryPop(out var part))
        {
            if (part == ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            string? target;
            try
            {
                target = new FileInfo(next).LinkTarget;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new ToolException($"'{shown}' cannot be read: {ex.GetType().Name}.");
            }

            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new ToolException($"'{shown}' goes through too many links (a loop?).");
            }

            // Continue from the link's target: absolute from the file system root, relative from the link's folder.
            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target) ?? "/";
            }

            foreach (var targetPart in Split(target).Reverse())
            {
                pending.Push(targetPart);
            }
        }

        return (current, links > 0);
    }

    private static string[] Split(string path) =>
        path.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
}
