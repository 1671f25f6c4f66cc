using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Teams;

public sealed class ExpertsApiTests
{
    [Fact]
    public async Task BuiltInExpertsAreListedAndCannotBeChanged()
    {
        await using var server = await ConclaveTestServer.StartAsync();

        var list = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/experts");
        using var put = await server.Http.PutAsJsonAsync("/api/v1/experts/critic", new { role = "r", instructions = "i" });
        using var delete = await server.Http.DeleteAsync("/api/v1/experts/writer");
        using var post = await server.Http.PostAsJsonAsync("/api/v1/experts", new { name = "analyst", role = "r", instructions = "i" });
        var researcher = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/experts/researcher");

        Assert.Equal(["researcher", "analyst", "writer", "critic"], list.EnumerateArray().Select(e => e.Str("name")));
        Assert.All(list.EnumerateArray(), e => Assert.True(e.GetProperty("built_in").GetBoolean()));
        Assert.Equal(HttpStatusCode.Conflict, put.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, post.StatusCode);
        Assert.False(string.IsNullOrEmpty(researcher.Str("instructions")));
    }

    [Fact]
    public async Task TenantExpertsFollowCrudAndStayWithTheirTenant()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var expert = new { name = "lawyer", role = "Reads contracts", instructions = "Be precise.", tools = new[] { "read_file" }, model = "big-model" };

        using var created = await server.Http.PostAsJsonAsync("/api/v1/experts", expert);
        using var duplicate = await server.Http.PostAsJsonAsync("/api/v1/experts", expert);
        using var replaced = await server.Http.PutAsJsonAsync("/api/v1/experts/lawyer", new { role = "Reads contracts closely", instructions = "Be precise." });
        var fetched = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/experts/lawyer");
        var (_, key) = await server.CreateTenantKeyAsync();
        using var tenant = server.CreateClient(key);
        using var hidden = await tenant.GetAsync("/api/v1/experts/lawyer");
        var tenantList = await tenant.GetFromJsonAsync<JsonElement>("/api/v1/experts");
        using var deleted = await server.Http.DeleteAsync("/api/v1/experts/lawyer");
        using var gone = await server.Http.GetAsync("/api/v1/experts/lawyer");

        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, duplicate.StatusCode);
        Assert.Equal(HttpStatusCode.OK, replaced.StatusCode);
        Assert.Equal("Reads contracts closely", fetched.Str("role"));
        Assert.False(fetched.GetProperty("built_in").GetBoolean());
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.DoesNotContain(tenantList.EnumerateArray(), e => e.Str("name") == "lawyer");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Theory]
    [InlineData("{\"name\": \"x\", \"instructions\": \"i\"}", "role")]
    [InlineData("{\"name\": \"x\", \"role\": \"r\"}", "instructions")]
    [InlineData("{\"name\": \"x y\", \"role\": \"r\", \"instructions\": \"i\"}", "name")]
    [InlineData("{\"name\": \"x\", \"role\": \"r\", \"instructions\": \"i\", \"tools\": [\"convene_team\"]}", "tools")]
    [InlineData("{\"name\": \"x\", \"role\": \"r\", \"instructions\": \"i\", \"tools\": [\"teleport\"]}", "tools")]
    public async Task BadExpertIs400NamingTheField(string body, string field)
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PostAsync("/api/v1/experts", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, field);
    }

    [Fact]
    public async Task PlannerCanChooseTheTenantsOwnExpertsWhichRunWithTheirInstructionsToolsAndModel()
    {
        var script = new TeamScript
        {
            Planner = (_, _) => TeamScript.Plan(("review", "lawyer", [])),
        };
        var client = script.ToClient();
        await using var server = await ConclaveTestServer.StartAsync(model: client);
        await server.Http.PostAsJsonAsync("/api/v1/experts", new { name = "lawyer", role = "Reads contracts", instructions = "Quote the clause.", tools = new[] { "read_file" }, model = "big-model" });
        await using var socket = await server.ConnectAsync(await server.CreateSessionAsync());

        var frames = await socket.ChatAsync("/team check the contract");

        Assert.Contains("- lawyer: Reads contracts", script.PlannerCalls[0][0].Text, StringComparison.Ordinal);
        var call = client.Calls.Single(c => c.Messages[0].Text.Contains("You are lawyer:", StringComparison.Ordinal));
        Assert.Contains("Quote the clause.", call.Messages[0].Text, StringComparison.Ordinal);
        Assert.Equal(["read_file"], call.Options!.Tools!.Select(t => t.Name));
        Assert.Equal("big-model", call.Options.ModelId);
        Assert.Equal("lawyer", frames.First(f => f.Type() == "team_formed").GetProperty("experts")[0].Str("name"));
    }

    [Theory]
    [InlineData("/api/v1/experts/lawyer", "{\"name\": \"judge\", \"role\": \"r\", \"instructions\": \"i\"}")]
    [InlineData("/api/v1/skills/poet", "{\"name\": \"painter\", \"keywords\": [\"k\"], \"instructions\": \"i\"}")]
    public async Task PutWithAnotherNameInTheBodyIs400NamingTheField(string path, string body)
    {
        await using var server = await ConclaveTestServer.StartAsync();

        using var response = await server.Http.PutAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        await ProblemAssert.NamesFieldAsync(response, "name");
    }
}
