using System.Buffers;
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
    private const int FlushBytes = 64 * 1024;

    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.StatusCode = StatusCodes.Status200OK;
        httpContext.Response.ContentType = "application/json; charset=utf-8";
        var body = httpContext.Response.BodyWriter;
        var unflushed = 0;
        body.Write("["u8);
        for (var i = 0; i < events.Count; i++)
        {
            if (i > 0)
            {
                body.Write(","u8);
            }

            body.Write(events[i].Utf8Json.Span);
            unflushed += events[i].Utf8Json.Length;
            if (unflushed >= FlushBytes)
            {
                await body.FlushAsync(httpContext.RequestAborted);
                unflushed = 0;
            }
        }

        body.Write("]"u8);
        await body.FlushAsync(httpContext.RequestAborted);
    }

    public static void PopulateMetadata(MethodInfo method, EndpointBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Metadata.Add(new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(List<AgentEvent>), ["application/json"]));
    }
}
