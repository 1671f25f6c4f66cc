using System.Text;
using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class FileToolsTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly ToolContext _context;

    public FileToolsTests()
    {
        _context = new ToolContext(new Workspace(_temp.PathOf("ws")), new ScriptedHuman());
        _temp.CreateFile("secret", "outside", "secret.txt");
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public async Task WrittenTextReadsBackTheSame()
    {
        using var tools = new ToolHost(new ToolOptions());
        const string text = "first line\nsecond line, ünïcödé ✓";

        var written = await tools.CallAsync("write_file", _context, new() { ["path"] = "notes/a.txt", ["content"] = text });
        var read = await tools.CallAsync("read_file", _context, new() { ["path"] = "notes/a.txt" });

        Assert.Equal($"Wrote {Encoding.UTF8.GetByteCount(text)} bytes to notes/a.txt.", written);
        Assert.Equal(text, read);
        Assert.Equal(text, await File.ReadAllTextAsync(_temp.PathOf("ws", "notes", "a.txt")));
    }

    [Fact]
    public async Task WritingReplacesAnExistingFile()
    {
        using var tools = new ToolHost(new ToolOptions());
        await tools.CallAsync("write_file", _context, new() { ["path"] = "a.txt", ["content"] = "a much longer first version" });

        await tools.CallAsync("write_file", _context, new() { ["path"] = "a.txt", ["content"] = "short" });

        Assert.Equal("short", await tools.CallAsync("read_file", _context, new() { ["path"] = "a.txt" }));
    }

    [Fact]
    public async Task ListFilesShowsEntriesInOrdinalOrderWithFoldersEndingInSlash()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFile("b", "ws", "b.txt");
        _temp.CreateFile("a", "ws", "a.txt");
        _temp.CreateFile("c", "ws", "sub", "c.txt");
        _temp.CreateFile("d", "ws", "B.txt");

        var listing = await tools.CallAsync("list_files", _context, new() { ["path"] = "" });

        Assert.Equal("B.txt\na.txt\nb.txt\nsub/", listing);
    }

    [Fact]
    public async Task ListFilesOfASubfolderShowsPathsRelativeToTheWorkspace()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFile("c", "ws", "sub", "c.txt");
        _temp.CreateFolder("ws", "sub", "inner");

        var listing = await tools.CallAsync("list_files", _context, new() { ["path"] = "sub" });

        Assert.Equal("sub/c.txt\nsub/inner/", listing);
    }

    [Fact]
    public async Task ListFilesOfAWorkspaceNotYetCreatedIsEmpty()
    {
        using var tools = new ToolHost(new ToolOptions());

        Assert.Equal("(empty)", await tools.CallAsync("list_files", _context, new() { ["path"] = null }));
    }

    [Fact]
    public async Task ListFilesWithoutAPathArgumentListsTheWorkspace()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFile("a", "ws", "a.txt");

        Assert.Equal("a.txt", await tools.CallAsync("list_files", _context, []));
    }

    [Fact]
    public async Task ListFilesStopsAtTheEntryLimitAndSaysSo()
    {
        using var tools = new ToolHost(new ToolOptions { MaxListEntries = 2 });
        foreach (var name in new[] { "a.txt", "b.txt", "c.txt", "d.txt" })
        {
            _temp.CreateFile(name, "ws", name);
        }

        var listing = await tools.CallAsync("list_files", _context, new() { ["path"] = "." });

        Assert.Equal("a.txt\nb.txt\n[more entries not shown: the limit is 2]", listing);
    }

    [Fact]
    public async Task ListFilesOfAMissingFolderIsAToolError()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFolder("ws");

        await Assert.ThrowsAsync<ToolException>(() => tools.CallAsync("list_files", _context, new() { ["path"] = "nope" }));
    }

    [Fact]
    public async Task ReadingMoreThanTheLimitReturnsTheStartAndATruncationNote()
    {
        using var tools = new ToolHost(new ToolOptions { MaxReadBytes = 5 });
        _temp.CreateFile("hello world", "ws", "big.txt");

        var read = await tools.CallAsync("read_file", _context, new() { ["path"] = "big.txt" });

        Assert.Equal("hello\n[truncated: the file has 11 bytes, the limit is 5]", read);
    }

    [Fact]
    public async Task ReadingExactlyTheLimitIsNotTruncated()
    {
        using var tools = new ToolHost(new ToolOptions { MaxReadBytes = 5 });
        _temp.CreateFile("hello", "ws", "five.txt");

        Assert.Equal("hello", await tools.CallAsync("read_file", _context, new() { ["path"] = "five.txt" }));
    }

    [Fact]
    public async Task ReadingAMissingFileIsAToolError()
    {
        using var tools = new ToolHost(new ToolOptions());

        var error = await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("read_file", _context, new() { ["path"] = "missing.txt" }));

        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WritingMoreThanTheLimitIsRefusedAndWritesNothing()
    {
        using var tools = new ToolHost(new ToolOptions { MaxWriteBytes = 5 });

        var error = await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = "a.txt", ["content"] = "123456" }));

        Assert.Equal("The content has 6 bytes; the limit is 5.", error.Message);
        Assert.False(File.Exists(_temp.PathOf("ws", "a.txt")));
    }

    [Fact]
    public async Task TheWriteLimitCountsUtf8BytesNotCharacters()
    {
        using var tools = new ToolHost(new ToolOptions { MaxWriteBytes = 5 });

        await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = "a.txt", ["content"] = "ééé" }));
    }

    [Fact]
    public async Task WritingOverAFolderIsAToolError()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFolder("ws", "sub");

        await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = "sub", ["content"] = "x" }));
        await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = ".", ["content"] = "x" }));
    }

    [Theory]
    [InlineData("../outside/secret.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("~/.bashrc")]
    [InlineData("a/../../outside/secret.txt")]
    public async Task ReadingOutsideTheWorkspaceIsRefused(string path)
    {
        using var tools = new ToolHost(new ToolOptions());

        await Assert.ThrowsAsync<ToolException>(() => tools.CallAsync("read_file", _context, new() { ["path"] = path }));
    }

    [Theory]
    [InlineData("../outside/evil.txt")]
    [InlineData("/tmp/evil.txt")]
    [InlineData("~/evil.txt")]
    public async Task WritingOutsideTheWorkspaceIsRefusedAndWritesNothing(string path)
    {
        using var tools = new ToolHost(new ToolOptions());

        await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = path, ["content"] = "x" }));

        Assert.False(File.Exists(_temp.PathOf("outside", "evil.txt")));
    }

    [Theory]
    [InlineData("..")]
    [InlineData("/etc")]
    public async Task ListingOutsideTheWorkspaceIsRefused(string path)
    {
        using var tools = new ToolHost(new ToolOptions());

        await Assert.ThrowsAsync<ToolException>(() => tools.CallAsync("list_files", _context, new() { ["path"] = path }));
    }

    [Fact]
    public async Task WritingThroughALinkToAnOutsideFolderIsRefusedAndWritesNothing()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFolder("ws");
        Directory.CreateSymbolicLink(_temp.PathOf("ws", "out"), _temp.PathOf("outside"));

        await Assert.ThrowsAsync<ToolException>(
            () => tools.CallAsync("write_file", _context, new() { ["path"] = "out/evil.txt", ["content"] = "x" }));

        Assert.False(File.Exists(_temp.PathOf("outside", "evil.txt")));
    }

    [Fact]
    public async Task ReadingThroughALinkToAnOutsideFileIsRefused()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFolder("ws");
        File.CreateSymbolicLink(_temp.PathOf("ws", "link.txt"), _temp.PathOf("outside", "secret.txt"));

        await Assert.ThrowsAsync<ToolException>(() => tools.CallAsync("read_file", _context, new() { ["path"] = "link.txt" }));
    }

    [Fact]
    public async Task ReadingThroughALinkWhoseTargetRunsThroughAnOutsideFolderLinkIsRefused()
    {
        using var tools = new ToolHost(new ToolOptions());
        _temp.CreateFolder("ws");
        Directory.CreateSymbolicLink(_temp.PathOf("ws", "out"), _temp.PathOf("outside"));
        File.CreateSymbolicLink(_temp.PathOf("ws", "innocent.txt"), _temp.PathOf("ws", "out", "secret.txt"));

        await Assert.ThrowsAsync<ToolException>(() => tools.CallAsync("read_file", _context, new() { ["path"] = "innocent.txt" }));
    }

    [Fact]
    public async Task AWriteStoppedAtAnyMomentLeavesTheOldContentOrTheNewAndNothingElse()
    {
        using var tools = new ToolHost(new ToolOptions { MaxWriteBytes = 64 * 1024 * 1024 });
        var old = new string('o', 1000);
        var fresh = new string('n', 32 * 1024 * 1024);
        var stopped = 0;
        for (var round = 0; round < 20; round++)
        {
            await tools.CallAsync("write_file", _context, new() { ["path"] = "big.txt", ["content"] = old });
            using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(round % 5 * 3));
            try
            {
                await tools.CallAsync("write_file", _context, new() { ["path"] = "big.txt", ["content"] = fresh }, stop.Token);
                Assert.Equal(fresh.Length, new FileInfo(_temp.PathOf("ws", "big.txt")).Length);
            }
            catch (OperationCanceledException)
            {
                stopped++;
                Assert.Equal(old, await File.ReadAllTextAsync(_temp.PathOf("ws", "big.txt")));
            }

            Assert.Equal(["big.txt"], Directory.GetFiles(_temp.PathOf("ws")).Select(Path.GetFileName));
        }

        Assert.True(stopped > 0, "no write was stopped midway");
    }
}
