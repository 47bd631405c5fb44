using System.Security.Claims;
using Microsoft.AspNetCore.Http.HttpResults;
using Portal.Domain.Common;
using Portal.Domain.Identity;
using Portal.Infrastructure.Identity;
using Portal.Security;

namespace Portal.Api;

internal static class TokensApi
{
    public const int DefaultLifetimeDays = 30;

    /// <summary>Personal access tokens: create (secret shown once), list own, revoke.</summary>
    public static void MapTokensApi(this RouteGroupBuilder api)
    {
        var tokens = api.MapGroup("/tokens").WithTags("Access tokens");
        tokens.MapPost("/", CreateAsync).WithSummary("Create a personal access token");
        tokens.MapGet("/", ListAsync).WithSummary("List your access tokens");
        tokens.MapDelete("/{id:guid}", RevokeAsync).WithSummary("Revoke an access token");
    }

    private static async Task<Results<Created<CreatedTokenResponse>, ValidationProblem, ProblemHttpResult>> CreateAsync(
        CreateTokenRequest? request, ClaimsPrincipal user, AccessTokenService service, CancellationToken cancellationToken)
    {
        if (user.IsTokenAuthenticated())
        {
            // A leaked token must not be able to mint more tokens that outlive its revocation.
            return TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden, title: "Forbidden",
                detail: "An access token cannot create tokens; authenticate with your password (Basic) or in the browser.");
        }

        var errors = new Dictionary<string, string[]>();
        var name = request?.Name?.Trim(' ');
        if (string.IsNullOrEmpty(name))
        {
            errors["name"] = ["Give the token a name, such as 'ci-pipeline'."];
        }
        else if (name.Length > AccessToken.MaxNameLength)
        {
            errors["name"] = [$"The name is at most {AccessToken.MaxNameLength} characters; it has {name.Length}."];
        }
        else if (Names.FreeTextProblem(name, "name", AccessToken.MaxNameLength) is { } problem)
        {
            errors["name"] = [problem];
        }

        var days = request?.ExpiresInDays ?? DefaultLifetimeDays;
        if (days is < 1 or > AccessToken.MaxLifetimeDays)
        {
            errors["expiresInDays"] = [$"A token lives 1 to {AccessToken.MaxLifetimeDays} days; {days} is outside that."];
        }

        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors, detail: "The token request has problems; nothing was created.");
        }

        var (token, secret) = await service.IssueAsync(user.ToActor(), name!, days, cancellationToken);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}",
            new CreatedTokenResponse(token.Id, token.Name, secret, token.DisplayPrefix, token.CreatedAt, token.ExpiresAt));
    }

    private static async Task<Ok<List<TokenResponse>>> ListAsync(ClaimsPrincipal user, AccessTokenService service, TimeProvider time, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var tokens = await service.ListAsync(user.ToActor().Name, cancellationToken);
        return TypedResults.Ok(tokens.Select(t => new TokenResponse(
            t.Id, t.Name, t.DisplayPrefix, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt, t.StatusAt(now))).ToList());
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeAsync(
        Guid id, ClaimsPrincipal user, AccessTokenService service, CancellationToken cancellationToken)
    {
        return await service.RevokeAsync(user.ToActor(), id, cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: $"You have no access token {id}.");
    }
}

internal sealed record CreateTokenRequest(string? Name, int? ExpiresInDays);

internal sealed record CreatedTokenResponse(Guid Id, string Name, string Token, string Prefix, DateTime CreatedAt, DateTime ExpiresAt);

internal sealed record TokenResponse(
    Guid Id, string Name, string Prefix, DateTime CreatedAt, DateTime ExpiresAt, DateTime? LastUsedAt, DateTime? RevokedAt, AccessTokenStatus Status);
