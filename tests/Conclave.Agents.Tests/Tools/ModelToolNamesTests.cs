using Conclave.Agents.Tools;
using Microsoft.Extensions.AI;

namespace Conclave.Agents.Tests.Tools;

public sealed class ModelToolNamesTests
{
    [Theory]
    [InlineData("calculator", "calculator")]
    [InlineData("get-sum", "get-sum")]
    [InlineData("fs.read_text_file", "fs__read_text_file")]
    [InlineData("srv.admin.tools list", "srv__admin__tools_list")]
    public void NamesEveryProviderTakesAreKeptAndOthersAreFitted(string name, string offered) =>
        Assert.Equal(offered, ModelToolNames.For(name));

    [Fact]
    public void ALongNameIsShortenedWithAHashSoThatNamesSharingAStartStayApart()
    {
        var a = ModelToolNames.For("server." + new string('a', 80) + "1");
        var b = ModelToolNames.For("server." + new string('a', 80) + "2");

        Assert.Equal(ModelToolNames.MaxLength, a.Length);
        Assert.Matches("^[A-Za-z0-9_-]{1,64}$", a);
        Assert.NotEqual(a, b);
    }

    [Fact]
    public void AToolIsOfferedUnderItsFittedNameWithItsSchema()
    {
        var function = AIFunctionFactory.Create((string path) => path, "fs.read");
        var tool = new AgentTool(function);

        Assert.Equal("fs.read", tool.Name);
        Assert.Equal("fs__read", tool.ModelFunction.Name);
        Assert.Equal(function.JsonSchema.GetRawText(), tool.ModelFunction.JsonSchema.GetRawText());
    }

    [Fact]
    public void AToolWhoseNameFitsIsOfferedAsItIs()
    {
        var function = AIFunctionFactory.Create(() => 1, "plain");

        Assert.Same(function, new AgentTool(function).ModelFunction);
    }
}
