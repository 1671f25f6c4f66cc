using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Conclave.Server.Tests.Infrastructure;

internal static class ProblemAssert
{
    /// <summary>The answer is a 400 RFC 7807 problem whose <c>errors</c> name <paramref name="field"/>.</summary>
    public static async Task NamesFieldAsync(HttpResponseMessage response, string field)
    {
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.GetRawText());
    }
}
