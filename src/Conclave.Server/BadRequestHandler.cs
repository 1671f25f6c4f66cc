using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Diagnostics;

namespace Conclave.Server;

/// <summary>
/// Turns a request that could not be read into a 400 problem that says what is wrong in words: a body that is not JSON
/// or has a field of the wrong type (naming the field), a missing body, a query value that does not parse (naming the
/// parameter and what it must be), instead of the framework's own text.
/// </summary>
internal sealed partial class BadRequestHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not BadHttpRequestException badRequest)
        {
            return false;
        }

        var (field, detail) = Describe(httpContext, badRequest);
        var problem = new Microsoft.AspNetCore.Mvc.ProblemDetails
        {
            Status = badRequest.StatusCode,
            Title = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(badRequest.StatusCode),
            Detail = detail,
        };
        if (field is not null)
        {
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [detail] };
        }

        await TypedResults.Problem(problem).ExecuteAsync(httpContext);
        return true;
    }

    private static (string? Field, string Detail) Describe(HttpContext http, BadHttpRequestException badRequest)
    {
        if (badRequest.InnerException is JsonException json)
        {
            var field = json.Path is { Length: > 2 } path ? ToField(path) : null;
            return (field, field is null ? "The body is not valid JSON or is not the expected object."
                : IsInvalidText(json) ? $"The field '{field}' holds text that is not valid Unicode (an unpaired surrogate escape)."
                : $"The field '{field}' is missing or has the wrong type.");
        }

        if (BindingFailure().Match(badRequest.Message) is { Success: true } failure)
        {
            var (type, name, value) = (failure.Groups["type"].Value, failure.Groups["name"].Value, failure.Groups["value"].Value);
            // The exception handler has taken the endpoint off the context; its feature keeps it.
            var endpoint = http.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
            var rule = endpoint?.Metadata.GetMetadata<QueryRules>()?.Find(name) ?? $"{name} must be {Expected(type)}";
            return (name, QueryRules.Refusal(rule, value));
        }

        if (badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            return (null, "The body is larger than the server takes.");
        }

        return http.Request.ContentLength is null or 0 && !http.Request.Headers.TransferEncoding.Any()
            ? ("body", "The request needs a JSON body (Content-Type: application/json).")
            : (null, badRequest.Message);
    }

    private static string Expected(string type) => type.Replace("Nullable<", string.Empty, StringComparison.Ordinal).TrimEnd('>') switch
    {
        "int" or "long" or "short" or "Int32" or "Int64" => "a whole number",
        "double" or "float" or "decimal" => "a number",
        "bool" or "Boolean" => "true or false",
        "DateTime" or "DateTimeOffset" => "a date and time (ISO 8601)",
        var other => $"a valid {other}",
    };

    // The reader names no type for a string that escapes a lone surrogate; only its message tells it from a wrong type.
    private static bool IsInvalidText(JsonException json) =>
        json.InnerException is InvalidOperationException { Message: var message } && message.Contains("UTF-16", StringComparison.Ordinal);

    // "$.keywords[0]" → "keywords[0]"; "$['a b']" → "a b"
    private static string ToField(string path) =>
        path.StartsWith("$.", StringComparison.Ordinal) ? path[2..]
        : path.StartsWith("$['", StringComparison.Ordinal) ? path[3..].TrimEnd(']').TrimEnd('\'')
        : path;

    // Minimal APIs' text for a query or route value that does not parse: Failed to bind parameter "Nullable<int> limit" from "abc".
    [GeneratedRegex("""^Failed to bind parameter "(?<type>.+) (?<name>[^ "]+)" from "(?<value>.*)"\.$""", RegexOptions.Singleline)]
    private static partial Regex BindingFailure();
}
