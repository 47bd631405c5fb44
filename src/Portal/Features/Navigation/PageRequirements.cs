using System.Reflection;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing.Template;

namespace Portal.Features.Navigation;

/// <summary>
/// The roles a page really requires, read from the page's own <c>[Authorize]</c> policy rather than its
/// area: a Viewer refused the register-data page is told it needs a data scientist or an administrator,
/// not the roles that may read datasets.
/// </summary>
public sealed class PageRequirements(IAuthorizationPolicyProvider policies)
{
    private static readonly IReadOnlyList<(RouteTemplate Template, string Policy)> Pages = [.. typeof(PageRequirements).Assembly.GetTypes()
        .Where(t => typeof(IComponent).IsAssignableFrom(t))
        .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => (r.Template, t.GetCustomAttribute<AuthorizeAttribute>()?.Policy)))
        .Where(p => p.Policy is not null)
        .Select(p => (TemplateParser.Parse(p.Template.TrimStart('/')), p.Policy!))
        // Literal segments win over parameters, as the router does: /datasets/register before /datasets/{Name}.
        .OrderByDescending(p => p.Item1.Segments.Count(s => s.IsSimple && s.Parts[0].IsLiteral))];

    /// <summary>The roles allowed to open <paramref name="path"/>, or null when no page there needs a role.</summary>
    public async Task<IReadOnlyList<string>?> RolesForAsync(string path)
    {
        var relative = "/" + path.Split('?', '#')[0].Trim('/');
        foreach (var (template, policyName) in Pages)
        {
            if (new TemplateMatcher(template, new()).TryMatch(relative, new()))
            {
                var policy = await policies.GetPolicyAsync(policyName);
                var roles = policy?.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct(StringComparer.Ordinal).ToList();
                return roles is { Count: > 0 } ? roles : null;
            }
        }

        return PortalAreas.ByPath(relative) is { Policy: not null } area ? area.Roles : null;
    }
}
