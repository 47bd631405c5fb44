using Microsoft.AspNetCore.Http.HttpResults;

namespace Portal.Api;

/// <summary>The problem+json answers endpoints give by hand (exceptions go through <see cref="ApiExceptionHandler"/>).</summary>
internal static class ApiProblems
{
    /// <summary>400 naming the field, with the message as the detail too.</summary>
    public static ValidationProblem Invalid(string field, string message) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, detail: message);

    public static ProblemHttpResult NotFound(string detail) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: detail);
}
