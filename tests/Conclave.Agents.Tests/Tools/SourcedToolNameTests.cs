using Conclave.Agents.Tools;

namespace Conclave.Agents.Tests.Tools;

public sealed class SourcedToolNameTests
{
    [Theory]
    [InlineData("fs.read_file", "fs")]
    [InlineData("srv.admin.list", "srv")]
    [InlineData("calculator", null)]
    [InlineData(".read_file", null)]
    [InlineData("fs.", null)]
    public void TheServerIsWhatComesBeforeTheFirstDotWhenBothSidesHaveAName(string name, string? server) =>
        Assert.Equal(server, SourcedToolName.ServerOf(name));

    [Fact]
    public void ASourcedNameNamesItsServerAgain() =>
        Assert.Equal("fs", SourcedToolName.ServerOf(SourcedToolName.Of("fs", "read.file")));
}
