using Conclave.Agents.Events;
using Conclave.Agents.Tests.Tools;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Conclave.Agents.Tests.Events;

/// <summary>An event journal in a fresh folder, deleted on dispose; <see cref="Reopen"/> opens the folder as a new process would.</summary>
internal sealed class TestJournal : IDisposable
{
    private readonly TempDirectory _folder = new();

    public TestJournal()
    {
        Journal = Open();
    }

    public EventJournal Journal { get; private set; }

    public string Folder => _folder.Root;

    /// <summary>Closes the journal without a word to it (as a killed process leaves it) and opens the folder again.</summary>
    public EventJournal Reopen()
    {
        Journal.Dispose();
        Journal = Open();
        return Journal;
    }

    public void Dispose()
    {
        Journal.Dispose();
        _folder.Dispose();
    }

    private EventJournal Open() =>
        new(Options.Create(new EventWriterOptions { JournalPath = _folder.Root }), NullLogger<EventJournal>.Instance);
}
