namespace Portal.Security;

/// <summary>The <c>Auth</c> section of appsettings.json.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    public AppServiceAuthenticationOptions AppServiceAuthentication { get; set; } = new();
}

/// <summary>
/// Trust the identity Azure App Service / Container Apps authentication (Easy Auth, Entra ID) puts in
/// <c>X-MS-CLIENT-PRINCIPAL</c>. The platform's front end is the only party allowed to send it: requests
/// carrying it from any other address are refused and audited.
/// </summary>
public sealed class AppServiceAuthenticationOptions
{
    public bool Enabled { get; set; }

    /// <summary>Addresses or CIDR ranges of the front end / proxies allowed to send the header. Loopback is always trusted.</summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>Entra ID app role value → portal role, e.g. <c>"MLOps.Reviewer": "RiskReviewer"</c>. Role values equal to a portal role map to it.</summary>
    public Dictionary<string, string> RoleMap { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Role given to a platform-authenticated person whose app roles map to none of ours.</summary>
    public string? DefaultRole { get; set; } = "Viewer";
}
