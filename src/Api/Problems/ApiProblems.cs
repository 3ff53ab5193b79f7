using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Streaming.Api.Problems;

/// <summary>The API's error answers, all as <c>application/problem+json</c>; a bad request names the field.</summary>
public static class ApiProblems
{
    public static ValidationProblem Field(string field, string message) =>
        TypedResults.ValidationProblem(
            new Dictionary<string, string[]> { [field] = [message] },
            detail: $"{field}: {message}",
            title: "The request is not valid; nothing was written");

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status404NotFound, title: "Not found");

    public static ProblemHttpResult Conflict(string detail) =>
        TypedResults.Problem(detail: detail, statusCode: StatusCodes.Status409Conflict, title: "Conflict; nothing was written");

    /// <summary>Writes a 401 or 403 problem directly (for authentication handlers, which answer before any endpoint runs).</summary>
    public static Task WriteAsync(HttpContext context, int status, string detail)
    {
        context.Response.StatusCode = status;
        return Results.Problem(
            detail: detail,
            statusCode: status,
            title: status == StatusCodes.Status401Unauthorized ? "Not signed in" : "Not allowed").ExecuteAsync(context);
    }
}
