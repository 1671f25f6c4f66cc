namespace Conclave.Agents.Tests.Tools;

/// <summary>A fresh folder under the temp path, deleted with everything in it (links, not their targets) on dispose.</summary>
internal sealed class TempDirectory : IDisposable
{
    public TempDirectory()
    {
        Root = Directory.CreateDirectory(Path.Combine(Path.GetTempPath(), $"conclave-tests-{Guid.NewGuid():N}")).FullName;
    }

    public string Root { get; }

    public string PathOf(params string[] parts) => Path.Combine([Root, .. parts]);

    public string CreateFolder(params string[] parts) => Directory.CreateDirectory(PathOf(parts)).FullName;

    public string CreateFile(string text, params string[] parts)
    {
        var path = PathOf(parts);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Dispose()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }
    }
}
