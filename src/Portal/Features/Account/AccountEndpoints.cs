using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Features.Account;

internal static class AccountEndpoints
{
    /// <summary>
    /// <c>POST /account/logout</c> (a form carrying the antiforgery token): ends the browser session, on the
    /// server too — the session store forgets it, so a copy of the cookie no longer signs anyone in.
    /// </summary>
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/logout", async (HttpContext context, IAntiforgery antiforgery, SignInManager<PortalUser> signIn) =>
        {
            // Minimal APIs check the token only for bound form fields; this endpoint reads none, so it asks itself.
            if (!await antiforgery.IsRequestValidAsync(context))
            {
                return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Sign-out refused",
                    detail: "The sign-out form is missing its antiforgery token; sign out from the portal's own menu.");
            }

            await signIn.SignOutAsync();
            return Results.LocalRedirect("/account/login");
        });
    }
}
