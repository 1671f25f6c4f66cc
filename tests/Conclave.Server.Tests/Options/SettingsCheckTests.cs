using Conclave.Agents.Tools;
using Conclave.Server.Options;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;

namespace Conclave.Server.Tests.Options;

public sealed class SettingsCheckTests
{
    private static readonly Lazy<IReadOnlyList<SettingsSection>> ServerSections = new(() =>
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Testing", ContentRootPath = AppContext.BaseDirectory });
        builder.AddConclaveServer();
        return [.. builder.Services.SettingsSections()];
    });

    [Fact]
    public void SettingsOfEveryKindPass()
    {
        var problems = Check(new()
        {
            ["Conclave:DataDir"] = "/srv/conclave",
            ["conclave:teams:maxtasks"] = "12",
            ["Conclave:Llm:Model"] = "llama3.2",
            ["Conclave:Llm:Temperature"] = "0.5",
            ["Conclave:Llm:Endpoint"] = "http://localhost:11434",
            ["Conclave:Llm:MaxContextTokens"] = "8000",
            ["Conclave:Llm:Builtin:TokenDelayMs"] = "0",
            ["Conclave:Storage:Provider"] = "postgres",
            ["Conclave:Events:QueueCapacity"] = "",
            ["Conclave:Cors:Origins:0"] = "https://chat.example.com",
            ["Conclave:Mcp:AllowedHosts:0"] = "tools.internal",
            ["Conclave:Mcp:AllowedHosts:1"] = "10.0.0.5:8080",
            ["Conclave:Tools:HttpGet:AllowedHosts:0"] = "wiki.internal",
            ["Conclave:Tools:HttpGet:MaxBytes"] = "1024",
            ["Logging:LogLevel:Default"] = "Debug",
            ["Kestrel:Endpoints:Http:Url"] = "http://0.0.0.0:8080",
        });

        Assert.Empty(problems);
    }

    [Theory]
    [InlineData("Conclave:Llm:Modle", "Conclave:Llm:Model")]
    [InlineData("Conclave:Modle", "Conclave:Llm:Model")]
    [InlineData("Conclave:Teams:MaxTask", "Conclave:Teams:MaxTasks")]
    [InlineData("Conclave:Llm:Endpiont", "Conclave:Llm:Endpoint")]
    [InlineData("Conclave:WebSockets:KeepAliveSeconds", "Conclave:WebSocket")]
    [InlineData("Conclave:Tools:HttpGet:AllowedHost:0", "Conclave:Tools:HttpGet:AllowedHosts")]
    [InlineData("Conclave:Storage:Provder", "Conclave:Storage:Provider")]
    public void AMisspelledNameIsRefusedWithTheNearestSetting(string name, string nearest)
    {
        var problems = Check(new() { [name] = "1" });

        var unknown = name.StartsWith("Conclave:WebSockets", StringComparison.Ordinal) ? "Conclave:WebSockets"
            : name.StartsWith("Conclave:Tools:HttpGet:AllowedHost:", StringComparison.Ordinal) ? "Conclave:Tools:HttpGet:AllowedHost"
            : name;
        Assert.Equal([$"{unknown} is not a setting; did you mean {nearest}?"], problems);
    }

    [Theory]
    [InlineData("Conclave:Colour")]
    [InlineData("Conclave:Llm:Builtin:Seed")]
    [InlineData("Conclave:DataDir:Sub")]
    // Set by the server itself: a value here would be overwritten.
    [InlineData("Conclave:Events:JournalPath")]
    [InlineData("Conclave:Agent:WorkspacesPath")]
    public void ANameFarFromEverySettingIsRefusedWithoutASuggestion(string name)
    {
        var problems = Check(new() { [name] = "x" });

        Assert.Equal([$"{name} is not a setting."], problems);
    }

    [Theory]
    [InlineData("Conclave:Teams:MaxTasks", "many", "a whole number")]
    [InlineData("Conclave:Agent:MaxSteps", "1.5", "a whole number")]
    [InlineData("Conclave:Events:QueueCapacity", "lots", "a whole number")]
    [InlineData("Conclave:Llm:Temperature", "warm", "a number")]
    [InlineData("Conclave:Storage:Provider", "Mysql", "one of Sqlite, Postgres")]
    public void AValueThatIsNotOfItsSettingsTypeIsRefused(string name, string value, string expected)
    {
        var problems = Check(new() { [name] = value });

        Assert.Equal([$"{name} is '{value}', which is not {expected}."], problems);
    }

    [Fact]
    public void AListGivenAsOneValueIsRefused()
    {
        var problems = Check(new() { ["Conclave:Cors:Origins"] = "https://chat.example.com" });

        Assert.Equal(["Conclave:Cors:Origins is a list: set its entries as Conclave:Cors:Origins:0, Conclave:Cors:Origins:1 and so on."], problems);
    }

    [Fact]
    public void EveryProblemIsReported()
    {
        var problems = Check(new() { ["Conclave:Llm:Modle"] = "x", ["Conclave:Teams:MaxTasks"] = "many" });

        Assert.Equal(2, problems.Count);
    }

    [Fact]
    public void ASwapOfNeighboursIsOneEdit()
    {
        Assert.Equal(1, SettingsCheck.EditDistance("Modle", "model"));
        Assert.Equal(2, SettingsCheck.EditDistance("Mdoel", "Modle"));
        Assert.Equal(3, SettingsCheck.EditDistance("", "abc"));
    }

    [Fact]
    public void ANestedSettingOutOfRangeIsNamedInFull()
    {
        var result = new AnnotatedSettingsValidator<ToolOptions>("Conclave:Tools").Validate("", new ToolOptions { HttpGet = { MaxBytes = 0 } });

        Assert.Equal(["Conclave:Tools:HttpGet:MaxBytes must be between 1 and 67108864; it is 0."], result.Failures);
    }

    [Fact]
    public void TheReadmesConfigurationTableListsEverySetting()
    {
        var folder = new DirectoryInfo(AppContext.BaseDirectory);
        while (!File.Exists(Path.Combine(folder.FullName, "Conclave.slnx")))
        {
            folder = folder.Parent!;
        }

        var readme = File.ReadAllText(Path.Combine(folder.FullName, "README.md"));

        var missing = SettingsCheck.Names(ServerSections.Value).Where(name => !readme.Contains($"| `{name}` |", StringComparison.Ordinal)).ToList();
        Assert.Equal([], missing);
    }

    private static IReadOnlyList<string> Check(Dictionary<string, string?> settings) =>
        SettingsCheck.Problems(new ConfigurationBuilder().AddInMemoryCollection(settings).Build(), ServerSections.Value);
}
