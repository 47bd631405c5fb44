using Microsoft.EntityFrameworkCore;
using Portal.Infrastructure.Persistence;

namespace Portal.Infrastructure.Identity;

/// <summary>Per-person settings that follow someone from browser to browser.</summary>
public sealed class UserPreferences(IDbContextFactory<PortalDbContext> dbFactory)
{
    public async Task<string> ThemeOfAsync(string userName, CancellationToken cancellationToken = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        return await db.Users.Where(u => u.UserName == userName).Select(u => u.Theme).SingleOrDefaultAsync(cancellationToken)
            ?? UiThemes.Light;
    }

    public async Task SetThemeAsync(string userName, string theme, CancellationToken cancellationToken = default)
    {
        if (!UiThemes.IsKnown(theme))
        {
            throw new ArgumentException($"'{theme}' is not a theme; use '{UiThemes.Light}' or '{UiThemes.Dark}'.", nameof(theme));
        }

        await using var db = await dbFactory.CreateDbContextAsync(cancellationToken);
        await db.Users.Where(u => u.UserName == userName)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.Theme, theme), cancellationToken);
    }
}
