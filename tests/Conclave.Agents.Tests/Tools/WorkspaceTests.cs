using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class WorkspaceTests : IDisposable
{
    private readonly TempDirectory _temp = new();
    private readonly Workspace _workspace;
    private readonly string _outside;

    public WorkspaceTests()
    {
        _workspace = new Workspace(_temp.CreateFolder("ws"));
        _outside = _temp.CreateFolder("outside");
        _temp.CreateFile("secret", "outside", "secret.txt");
    }

    public void Dispose() => _temp.Dispose();

    [Fact]
    public void RelativePathsResolveInsideTheRoot() =>
        Assert.Equal(Path.Combine(_workspace.Root, "notes", "a.txt"), _workspace.Resolve("notes/a.txt"));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("  ")]
    [InlineData(".")]
    [InlineData("a/..")]
    public void AnEmptyPathIsTheRoot(string? path) => Assert.Equal(_workspace.Root, _workspace.Resolve(path));

    [Fact]
    public void DotDotThatStaysInsideIsAllowed() =>
        Assert.Equal(Path.Combine(_workspace.Root, "b"), _workspace.Resolve("a/../b"));

    [Theory]
    [InlineData("..")]
    [InlineData("../outside/secret.txt")]
    [InlineData("a/../../outside/secret.txt")]
    [InlineData("a/b/../../../x")]
    public void DotDotThatClimbsOutIsRefused(string path)
    {
        var error = Assert.Throws<ToolException>(() => _workspace.Resolve(path));

        Assert.Contains("leaves the session's workspace", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASiblingFolderWhoseNameStartsWithTheRootsNameIsOutside()
    {
        _temp.CreateFile("x", "ws2", "file.txt");

        Assert.Throws<ToolException>(() => _workspace.Resolve("../ws2/file.txt"));
    }

    [Theory]
    [InlineData("/etc/passwd")]
    [InlineData("/")]
    [InlineData("~")]
    [InlineData("~/.ssh/id_rsa")]
    [InlineData("~root")]
    public void AbsoluteAndHomePathsAreRefused(string path)
    {
        var error = Assert.Throws<ToolException>(() => _workspace.Resolve(path));

        Assert.Contains("absolute", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAbsolutePathIntoTheWorkspaceItselfIsStillRefused() =>
        Assert.Throws<ToolException>(() => _workspace.Resolve(Path.Combine(_workspace.Root, "a.txt")));

    [Fact]
    public void APathWithANulCharacterIsRefused() =>
        Assert.Throws<ToolException>(() => _workspace.Resolve("a\0b.txt"));

    [Fact]
    public void AFileLinkPointingOutsideIsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "link.txt"), Path.Combine(_outside, "secret.txt"));

        var error = Assert.Throws<ToolException>(() => _workspace.Resolve("link.txt"));

        Assert.Contains("link that leaves", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ARelativeLinkThatClimbsOutIsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "up.txt"), "../outside/secret.txt");

        Assert.Throws<ToolException>(() => _workspace.Resolve("up.txt"));
    }

    [Theory]
    [InlineData("out")]
    [InlineData("out/secret.txt")]
    [InlineData("out/new-file.txt")]
    [InlineData("out/deeper/new-file.txt")]
    public void APathThroughAFolderLinkPointingOutsideIsRefused(string path)
    {
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Root, "out"), _outside);

        Assert.Throws<ToolException>(() => _workspace.Resolve(path));
    }

    [Fact]
    public void AFolderLinkDeeperInTheTreeIsChecked()
    {
        Directory.CreateDirectory(Path.Combine(_workspace.Root, "a", "b"));
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Root, "a", "b", "out"), _outside);

        Assert.Throws<ToolException>(() => _workspace.Resolve("a/b/out/secret.txt"));
    }

    [Fact]
    public void ADanglingLinkPointingOutsideIsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "dangling.txt"), Path.Combine(_outside, "missing.txt"));

        Assert.Throws<ToolException>(() => _workspace.Resolve("dangling.txt"));
    }

    [Fact]
    public void AChainOfLinksEndingOutsideIsRefused()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "second.txt"), Path.Combine(_outside, "secret.txt"));
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "first.txt"), Path.Combine(_workspace.Root, "second.txt"));

        Assert.Throws<ToolException>(() => _workspace.Resolve("first.txt"));
    }

    [Fact]
    public void AFolderLinkPointingInsideIsAllowed()
    {
        Directory.CreateDirectory(Path.Combine(_workspace.Root, "real"));
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Root, "alias"), Path.Combine(_workspace.Root, "real"));

        // The real path is returned, so the file opened is the one that was checked.
        Assert.Equal(Path.Combine(_workspace.Root, "real", "file.txt"), _workspace.Resolve("alias/file.txt"));
    }

    [Fact]
    public void ARelativeFileLinkPointingInsideIsAllowed()
    {
        _temp.CreateFile("data", "ws", "real.txt");
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "alias.txt"), "real.txt");

        Assert.Equal(Path.Combine(_workspace.Root, "real.txt"), _workspace.Resolve("alias.txt"));
    }

    [Fact]
    public void ALinkWhoseTargetRunsThroughAnOutsideFolderLinkIsRefused()
    {
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Root, "out"), _outside);
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "innocent.txt"), Path.Combine(_workspace.Root, "out", "secret.txt"));

        Assert.Equal("secret", File.ReadAllText(Path.Combine(_workspace.Root, "innocent.txt")));
        Assert.Throws<ToolException>(() => _workspace.Resolve("innocent.txt"));
    }

    [Fact]
    public void ALinkWhoseTargetClimbsOutOfAFolderLinkIsRefused()
    {
        _temp.CreateFile("deep secret", "outside", "secret-below.txt");
        _temp.CreateFolder("outside", "deep");
        Directory.CreateSymbolicLink(Path.Combine(_workspace.Root, "b"), Path.Combine(_outside, "deep"));
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "sneaky.txt"), "b/../secret-below.txt");

        Assert.Equal("deep secret", File.ReadAllText(Path.Combine(_workspace.Root, "sneaky.txt")));
        Assert.Throws<ToolException>(() => _workspace.Resolve("sneaky.txt"));
    }

    [Fact]
    public void ALinkLoopIsAToolError()
    {
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "a"), Path.Combine(_workspace.Root, "b"));
        File.CreateSymbolicLink(Path.Combine(_workspace.Root, "b"), Path.Combine(_workspace.Root, "a"));

        Assert.Throws<ToolException>(() => _workspace.Resolve("a"));
    }

    [Fact]
    public void ToRelativeUsesForwardSlashes() =>
        Assert.Equal("notes/a.txt", _workspace.ToRelative(Path.Combine(_workspace.Root, "notes", "a.txt")));
}
