using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Conclave.Server.Tests.Infrastructure;

namespace Conclave.Server.Tests.Auth;

public sealed class MeTests
{
    [Fact]
    public async Task MeNamesTheCallersTenantAndKeyAndWhetherItIsTheAdmin()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        var (id, key) = await server.CreateTenantKeyAsync("acme");
        using var tenant = server.CreateClient(key);

        var admin = await server.Http.GetFromJsonAsync<JsonElement>("/api/v1/me");
        var me = await tenant.GetFromJsonAsync<JsonElement>("/api/v1/me");

        Assert.Equal("admin", admin.GetProperty("tenant_id").GetString());
        Assert.True(admin.GetProperty("is_admin").GetBoolean());
        Assert.Equal(id, me.GetProperty("tenant_id").GetString());
        Assert.Equal(id, me.GetProperty("key_id").GetString());
        Assert.Equal("acme", me.GetProperty("name").GetString());
        Assert.False(me.GetProperty("is_admin").GetBoolean());
        Assert.DoesNotContain(key, me.GetRawText());
    }

    [Fact]
    public async Task MeWithoutAValidKeyIs401()
    {
        await using var server = await ConclaveTestServer.StartAsync();
        using var wrong = server.CreateClient("ck_wrong");

        using var response = await wrong.GetAsync("/api/v1/me");

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
