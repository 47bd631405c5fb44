using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Identity;
using Portal.Infrastructure.Persistence;

namespace Portal.Features.Account;

internal static class AccountEndpoints
{
    /// <summary><c>POST /account/logout</c> (a form carrying the antiforgery token): ends the browser session.</summary>
    public static void MapAccountEndpoints(this WebApplication app)
    {
        app.MapPost("/account/logout", async (SignInManager<PortalUser> signIn) =>
        {
            await signIn.SignOutAsync();
            return TypedResults.LocalRedirect("/account/login");
        }).WithMetadata(new RequireAntiforgeryTokenAttribute());
    }
}
