using Conclave.Server.Options;
using Microsoft.Extensions.Options;

namespace Conclave.Server.Startup;

/// <summary>
/// Holds an exclusive lock on the data folder for the life of the process. Two servers on one folder
/// would hand out the same event ids and end each other's runs; the second one refuses to start.
/// </summary>
internal sealed class DataDirectoryLock(IOptions<ConclaveOptions> options) : IDisposable
{
    private FileStream? _lock;

    public void Acquire()
    {
        var dataPath = options.Value.DataPath;
        Directory.CreateDirectory(dataPath);
        var path = Path.Combine(dataPath, "conclave.lock");
        try
        {
            _lock = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new InvalidOperationException(
                $"Conclave:DataDir '{dataPath}' is in use by another Conclave process ({path} is locked). " +
                "Give each server its own data folder; several servers share state through PostgreSQL and Redis.", ex);
        }
    }

    public void Dispose() => _lock?.Dispose();
}
