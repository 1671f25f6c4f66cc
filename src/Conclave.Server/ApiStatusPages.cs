using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.WebUtilities;

namespace Conclave.Server;

/// <summary>
/// A problem body for the answers under <c>/api</c> that routing and binding leave empty: 404 for a path no endpoint
/// is mapped to, 405 for a method the path does not take, 415 for a body that is not JSON. Other paths (the web
/// client's files) keep their plain answers.
/// </summary>
internal static class ApiStatusPages
{
    public static WebApplication UseApiStatusPages(this WebApplication app)
    {
        app.UseStatusCodePages(WriteAsync);
        return app;
    }

    private static Task WriteAsync(StatusCodeContext context)
    {
        var http = context.HttpContext;
        if (!http.Request.Path.StartsWithSegments("/api"))
        {
            return Task.CompletedTask;
        }

        var (method, path, status) = (http.Request.Method, http.Request.Path.Value, http.Response.StatusCode);
        var detail = status switch
        {
            StatusCodes.Status404NotFound => $"No endpoint answers {method} {path}; /openapi/v1.json lists them.",
            StatusCodes.Status405MethodNotAllowed => $"{path} does not take {method}; it takes {http.Response.Headers.Allow}.",
            StatusCodes.Status415UnsupportedMediaType => http.Request.ContentType is { Length: > 0 } type
                ? $"The body must be JSON, sent with Content-Type: application/json (not {type})."
                : "The body must be JSON, sent with Content-Type: application/json.",
            _ => $"{method} {path} was refused ({status} {ReasonPhrases.GetReasonPhrase(status)}).",
        };
        return TypedResults.Problem(detail, statusCode: status, title: ReasonPhrases.GetReasonPhrase(status)).ExecuteAsync(http);
    }
}
