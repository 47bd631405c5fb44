using Microsoft.AspNetCore.Identity;

namespace Portal.Infrastructure.Persistence;

/// <summary>A person who signs in. User name and e-mail are the same for local accounts.</summary>
public sealed class PortalUser : IdentityUser
{
    public string? DisplayName { get; set; }

    /// <summary>Team the person's work is attributed to (costs, GPU use).</summary>
    public string? Team { get; set; }

    /// <summary>"light" or "dark"; remembered per person, not per browser.</summary>
    public string Theme { get; set; } = UiThemes.Light;

    /// <summary>Where the account comes from: "local", or "appservice" for Entra ID users signed in by the platform.</summary>
    public string Source { get; set; } = "local";

    public DateTime CreatedAt { get; set; }

    public DateTime? LastSignInAt { get; set; }
}

public static class UiThemes
{
    public const string Light = "light";
    public const string Dark = "dark";

    public static bool IsKnown(string theme) => theme is Light or Dark;
}
