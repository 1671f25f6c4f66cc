using Conclave.Agents.Skills;
using Conclave.Storage;

namespace Conclave.Server.Tests.Storage.Contract;

/// <summary>What every store of a tenant's named items must do (shown with skills; experts share the implementation), and what MCP server registrations keep.</summary>
public abstract class TenantItemStoreContract
{
    private static readonly DateTime At = new(2026, 12, 2, 1, 0, 0, DateTimeKind.Utc);

    protected abstract Task<IStorageUnderTest> StartAsync();

    [Fact]
    public async Task AnItemIsTheTenantsOwnAddedOnceReplacedInPlaceAndDeleted()
    {
        await using var storage = await StartAsync();
        var poet = new Skill("poet", "writes", ["poem"], "Be a poet.", ["calculator"], null, "m1", 0, 60);
        var added = await storage.Skills.AddAsync("t1", poet, At);
        var again = await storage.Skills.AddAsync("t1", poet with { Description = "other" }, At.AddMinutes(1));
        var otherTenant = await storage.Skills.AddAsync("t2", poet with { Instructions = "Theirs." }, At);
        var replaced = await storage.Skills.PutAsync("t1", poet with { Keywords = ["verse"], Tools = null }, At.AddHours(1));
        var listed = await storage.Skills.ListAsync("t1");
        var deleted = await storage.Skills.DeleteAsync("t1", "poet");
        var deletedAgain = await storage.Skills.DeleteAsync("t1", "poet");

        Assert.NotNull(added);
        Assert.Equal(poet, added.Item with { Keywords = poet.Keywords, Tools = poet.Tools });
        Assert.Equal(["poem"], added.Item.Keywords);
        Assert.Equal(["calculator"], added.Item.Tools);
        Assert.Null(again);
        Assert.Equal("Theirs.", otherTenant?.Item.Instructions);
        Assert.Equal((At, At.AddHours(1)), (replaced.CreatedAt, replaced.UpdatedAt));
        Assert.Equal(["verse"], replaced.Item.Keywords);
        Assert.Null(replaced.Item.Tools);
        Assert.Equal(["poet"], listed.Select(s => s.Item.Name));
        Assert.True(deleted);
        Assert.False(deletedAgain);
        Assert.Null(await storage.Skills.FindAsync("t1", "poet"));
        Assert.Equal("Theirs.", (await storage.Skills.FindAsync("t2", "poet"))?.Item.Instructions);
    }

    [Fact]
    public async Task AnMcpServerRegistrationComesBackWithEveryField()
    {
        await using var storage = await StartAsync();
        var stdio = new McpServerRegistration(
            "files", McpServerRegistration.Stdio, "npx", ["-y", "@scope/server", "--root=/tmp/a b"], null, ["TOKEN", "HOME_DIR"], [],
            "CfDJ8-protected", "annotations", new Dictionary<string, string> { ["write_file"] = "always", ["read_file"] = "never" }, 30);
        var http = new McpServerRegistration("search", McpServerRegistration.Http, null, null, "https://mcp.example/mcp", [], [], null, "always", null, null);
        var noArgumentsNoPolicies = new McpServerRegistration(
            "clock", McpServerRegistration.Stdio, "clock-server", [], null, [], ["Authorization"], null, "never", new Dictionary<string, string>(), 0);

        foreach (var registration in new[] { stdio, http, noArgumentsNoPolicies })
        {
            var added = await storage.McpServers.AddAsync("t1", registration, At);
            AssertSameRegistration(registration, added?.Item);
            AssertSameRegistration(registration, (await storage.McpServers.FindAsync("t1", registration.Name))?.Item);
        }

        var listed = await storage.McpServers.ListAsync("t1");
        Assert.Equal(["clock", "files", "search"], listed.Select(s => s.Item.Name));
        AssertSameRegistration(stdio, listed[1].Item);
        Assert.Equal((At, At), (listed[1].CreatedAt, listed[1].UpdatedAt));
    }

    [Fact]
    public async Task AnMcpServerRegistrationIsFoundListedAndDeletedOnlyByItsTenant()
    {
        await using var storage = await StartAsync();
        var mine = new McpServerRegistration("github", McpServerRegistration.Http, null, null, "https://mine.example/mcp", [], ["Authorization"], "mine", "always", null, null);

        await storage.McpServers.AddAsync("t1", mine, At);

        Assert.Null(await storage.McpServers.FindAsync("t2", "github"));
        Assert.Empty(await storage.McpServers.ListAsync("t2"));
        Assert.False(await storage.McpServers.DeleteAsync("t2", "github"));
        var theirs = await storage.McpServers.AddAsync("t2", mine with { Url = "https://theirs.example/mcp", ProtectedSecrets = "theirs" }, At);
        Assert.Equal("https://theirs.example/mcp", theirs?.Item.Url);
        Assert.True(await storage.McpServers.DeleteAsync("t2", "github"));
        AssertSameRegistration(mine, (await storage.McpServers.FindAsync("t1", "github"))?.Item);
        Assert.Equal(["github"], (await storage.McpServers.ListAsync("t1")).Select(s => s.Item.Name));
    }

    [Fact]
    public async Task PuttingAnMcpServerRegistrationReplacesItInPlaceKeepingWhenItWasMade()
    {
        await using var storage = await StartAsync();
        var first = new McpServerRegistration(
            "files", McpServerRegistration.Stdio, "files-server", ["--root", "/a"], null, ["TOKEN"], [], "old-secrets", "annotations",
            new Dictionary<string, string> { ["write_file"] = "always" }, 30);
        var second = first with
        {
            Arguments = null,
            EnvironmentNames = [],
            ProtectedSecrets = null,
            Confirmation = "never",
            ToolConfirmation = null,
            TimeoutSeconds = null,
        };

        await storage.McpServers.AddAsync("t1", first, At);
        var again = await storage.McpServers.AddAsync("t1", second, At.AddMinutes(1));
        var replaced = await storage.McpServers.PutAsync("t1", second, At.AddHours(1));
        var putNew = await storage.McpServers.PutAsync("t1", first with { Name = "other" }, At.AddHours(2));

        Assert.Null(again);
        Assert.Equal((At, At.AddHours(1)), (replaced.CreatedAt, replaced.UpdatedAt));
        var found = await storage.McpServers.FindAsync("t1", "files");
        Assert.Equal((At, At.AddHours(1)), (found?.CreatedAt, found?.UpdatedAt));
        AssertSameRegistration(second, found?.Item);
        Assert.Equal((At.AddHours(2), At.AddHours(2)), (putNew.CreatedAt, putNew.UpdatedAt));
        Assert.Equal(["files", "other"], (await storage.McpServers.ListAsync("t1")).Select(s => s.Item.Name));
    }

    /// <summary>Field by field: the record's own equality compares its lists and dictionary by reference.</summary>
    private static void AssertSameRegistration(McpServerRegistration expected, McpServerRegistration? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(
            expected,
            actual with
            {
                Arguments = expected.Arguments,
                EnvironmentNames = expected.EnvironmentNames,
                HeaderNames = expected.HeaderNames,
                ToolConfirmation = expected.ToolConfirmation,
            });
        Assert.Equal(expected.Arguments, actual.Arguments);
        Assert.Equal(expected.EnvironmentNames, actual.EnvironmentNames);
        Assert.Equal(expected.HeaderNames, actual.HeaderNames);
        Assert.Equal(expected.ToolConfirmation?.OrderBy(p => p.Key), actual.ToolConfirmation?.OrderBy(p => p.Key));
    }
}
