using System.Globalization;
using System.Security.Claims;
using System.Text.Json;
using Portal.Domain.Common;
using Portal.Features.Navigation;
using Portal.Infrastructure.Identity;
using Portal.Security;

namespace Portal.Api;

/// <summary>
/// <c>/api/v1/users</c>: people and their roles for provisioning scripts, with the rules of the Admin page
/// (valid e-mail and password, known roles, the last administrator kept, nobody locks themselves out).
/// Administrators only; every change is audited by <see cref="UserDirectory"/>.
/// </summary>
internal static class UsersApi
{
    public static void MapUsersApi(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("People").RequireAuthorization(PortalAreas.Policies.Admin);
        users.MapGet("/", ListAsync).WithSummary("People, paged and searchable: ?search=&role=&page=&pageSize=");
        users.MapGet("/{userName}", GetAsync).WithSummary("One person with roles and lock state");
        users.MapPost("/", CreateAsync).WithSummary("Create a person: {email, password, roles, displayName?, team?}");
        users.MapPatch("/{userName}", ChangeAsync).WithSummary("Change a person's roles and/or lock them: {roles?, locked?}");
    }

    public sealed record CreateBody(string? Email, string? Password, List<string>? Roles, string? DisplayName, string? Team);

    public sealed record ChangeBody(List<string>? Roles, bool? Locked);

    private static async Task<IResult> ListAsync(UserDirectory directory, HttpResponse response, CancellationToken cancellationToken,
        string? search = null, string? role = null, int page = 1, int pageSize = 50)
    {
        var size = Math.Clamp(pageSize, 1, UserDirectory.MaxPageSize);
        var result = await directory.SearchAsync(new UserQuery(search, role, Skip: (Math.Max(1, page) - 1) * size, Take: size), cancellationToken);
        response.Headers["X-Total-Count"] = result.Total.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Ok(result.Users.Select(Shape));
    }

    private static async Task<IResult> GetAsync(string userName, UserDirectory directory, CancellationToken cancellationToken) =>
        await directory.FindAsync(userName, cancellationToken) is { } user ? TypedResults.Ok(Shape(user)) : NotFound(userName);

    private static async Task<IResult> CreateAsync(CreateBody? body, UserDirectory directory, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null)
        {
            return ApiProblems.Invalid("body", "Send {email, password, roles, displayName?, team?} as JSON.");
        }

        var errors = await directory.CreateAsync(user.ToActor(), new NewUser
        {
            Email = body.Email,
            Password = body.Password,
            Roles = body.Roles ?? [],
            DisplayName = body.DisplayName,
            Team = body.Team,
        }, cancellationToken);
        if (!errors.IsEmpty)
        {
            return Invalid(errors, "The person was not created.");
        }

        var created = (await directory.FindAsync(body.Email!.Trim(' '), cancellationToken))!;
        return TypedResults.Created($"/api/v1/users/{Uri.EscapeDataString(created.UserName)}", Shape(created));
    }

    private static async Task<IResult> ChangeAsync(string userName, ChangeBody? body, UserDirectory directory, ClaimsPrincipal user, CancellationToken cancellationToken)
    {
        if (body is null || (body.Roles is null && body.Locked is null))
        {
            return ApiProblems.Invalid("body", "Send {roles?: [...], locked?: true|false} as JSON.");
        }

        if (await directory.FindAsync(userName, cancellationToken) is not { } found)
        {
            return NotFound(userName);
        }

        var admin = user.ToActor();
        // Checked before anything changes, so a refused lock never leaves the roles half-changed.
        if (body.Locked == true && string.Equals(admin.Name, found.UserName, StringComparison.OrdinalIgnoreCase))
        {
            return ApiProblems.Invalid("locked", "You cannot lock your own account.");
        }

        if (body.Roles is { } roles)
        {
            var errors = await directory.SetRolesAsync(admin, found.UserName, roles, cancellationToken);
            if (!errors.IsEmpty)
            {
                return Invalid(errors, "The roles were not changed.");
            }
        }

        if (body.Locked is { } locked)
        {
            try
            {
                await directory.SetLockedAsync(admin, found.UserName, locked, cancellationToken);
            }
            catch (DomainException e) when (e is not NotPermittedException)
            {
                return ApiProblems.Invalid("locked", e.Message);
            }
        }

        return TypedResults.Ok(Shape((await directory.FindAsync(found.UserName, cancellationToken))!));
    }

    private static object Shape(UserSummary u) => new
    {
        userName = u.UserName,
        displayName = u.DisplayName,
        team = u.Team,
        source = u.Source,
        roles = u.Roles,
        locked = u.LockedUntil is not null,
        lockedUntil = u.LockedUntil,
        lastSignInAt = u.LastSignInAt,
        createdAt = u.CreatedAt,
    };

    /// <summary>The directory's field errors under the API's camelCase field names.</summary>
    private static IResult Invalid(FieldErrors errors, string detail) =>
        TypedResults.ValidationProblem(errors.ToDictionary().ToDictionary(e => JsonNamingPolicy.CamelCase.ConvertName(e.Key), e => e.Value), detail: $"{detail} {errors}");

    private static IResult NotFound(string userName) => ApiProblems.NotFound($"There is no person '{Domain.Common.Names.Visible(userName)}'.");
}
