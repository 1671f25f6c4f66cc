using Microsoft.AspNetCore.Http.HttpResults;

namespace Conclave.Server;

/// <summary>RFC 7807 answers shared by the endpoints.</summary>
internal static class Problems
{
    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status404NotFound, title: "Not Found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict");

    public static ProblemHttpResult Forbidden(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status403Forbidden, title: "Forbidden");

    /// <summary>Every problem the server writes has a detail: a validation problem's is its errors, in words.</summary>
    public static void AddDetail(ProblemDetailsContext context)
    {
        if (context.ProblemDetails is { Detail: null } problem)
        {
            problem.Detail = problem is HttpValidationProblemDetails { Errors.Count: > 0 } validation
                ? string.Join(" ", validation.Errors.SelectMany(e => e.Value))
                : problem.Title;
        }
    }
}
