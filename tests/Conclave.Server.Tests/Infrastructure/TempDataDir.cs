namespace Conclave.Server.Tests.Infrastructure;

/// <summary>A data folder for servers that a test starts one after another; deleted at the end.</summary>
internal sealed class TempDataDir : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("conclave-test-").FullName;

    public void Dispose() => TestFiles.DeleteDirectory(Path);
}
