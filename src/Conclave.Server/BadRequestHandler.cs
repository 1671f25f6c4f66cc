using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Conclave.Server;

/// <summary>
/// Turns a body that could not be read (not JSON, or a field of the wrong type) into a 400 problem that
/// names the field, instead of an empty 400.
/// </summary>
internal sealed class BadRequestHandler(IProblemDetailsService problems) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        var json = badRequest.InnerException as JsonException;
        var field = json?.Path is { Length: > 2 } path ? ToField(path) : null;
        var detail = json is null ? badRequest.Message
            : field is null ? "The body is not valid JSON or is not the expected object."
            : IsInvalidText(json) ? $"The field '{field}' holds text that is not valid Unicode (an unpaired surrogate escape)."
            : $"The field '{field}' is missing or has the wrong type.";
        httpContext.Response.StatusCode = badRequest.StatusCode;
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails { Status = badRequest.StatusCode, Title = "Bad Request", Detail = detail };
        if (field is not null)
        {
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
        }

        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    // The reader names no type for a string that escapes a lone surrogate; only its message tells it from a wrong type.
    private static bool IsInvalidText(JsonException json) =>
        json.InnerException is InvalidOperationException { Message: var message } && message.Contains("UTF-16", StringComparison.Ordinal);

    // "$.keywords[0]" → "keywords[0]"; "$['a b']" → "a b"
    private static string ToField(string path) =>
        path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : path.StartsWith("$['", StringComparison.Ordinal) ? path[3..].TrimEnd(']').TrimEnd('\'')
        : path;
}
