using System.Reflection;
using Conclave.Agents.Events;
using Microsoft.AspNetCore.Http.Metadata;

namespace Conclave.Server.Sessions;

/// <summary>
/// Stored events as a JSON array, written as they are stored (no parse and re-serialize); described in the API
/// description as an array of <see cref="AgentEvent"/>, one schema per event type.
/// </summary>
internal sealed class StoredEventsResult(IReadOnlyList<SessionEvent> events) : IResult, IEndpointMetadataProvider
{
    private static readonly byte[] Comma = ","u8.ToArray();

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        var body = httpContext.Response.BodyWriter;
        await body.WriteAsync("["u8.ToArray(), httpContext.RequestAborted);
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                await body.WriteAsync(Comma, httpContext.RequestAborted);
            }

            await body.WriteAsync(events[i].Utf8Json, httpContext.RequestAborted);
        }

        await body.WriteAsync("]"u8.ToArray(), httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(List<AgentEvent>), ["application/json"]));
    }
}
