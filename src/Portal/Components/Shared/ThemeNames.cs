using Portal.Infrastructure.Persistence;

namespace Portal.Components.Shared;

/// <summary>Our two themes as Radzen theme names.</summary>
public static class ThemeNames
{
    public static string ToRadzen(string theme) => theme == UiThemes.Dark ? "standard-dark" : "standard";
}
