using System.Security.Claims;
using System.Text.RegularExpressions;
using Portal.Domain.Identity;
using Portal.Features.Navigation;

namespace Portal.Hubs;

/// <summary>
/// Topics external clients may follow on <c>/hubs/status</c>. A topic is an artifact reference or a prefix
/// of one (<c>experiment:42</c>, <c>model:credit-risk</c>); who may follow it follows who may open its area.
/// </summary>
public static partial class LiveTopics
{
    /// <summary>Security events; administrators only.</summary>
    public const string Security = "security";

    public const string Demo = "system:demo";

    private static readonly Dictionary<string, string> AreaOfKind = new(StringComparer.Ordinal)
    {
        ["dataset"] = PortalAreas.Policies.Datasets,
        ["experiment"] = PortalAreas.Policies.Experiments,
        ["run"] = PortalAreas.Policies.Experiments,
        ["job"] = PortalAreas.Policies.Jobs,
        ["model"] = PortalAreas.Policies.Models,
        ["approval"] = PortalAreas.Policies.Reviews,
        ["endpoint"] = PortalAreas.Policies.Deployments,
        ["deployment"] = PortalAreas.Policies.Deployments,
        ["compute"] = PortalAreas.Policies.Compute,
        ["gpu"] = PortalAreas.Policies.Compute,
    };

    [GeneratedRegex(@"^[a-z][a-z\-]{1,30}(:[A-Za-z0-9._@\-]{1,200}){0,3}\z")]
    private static partial Regex TopicPattern();

    /// <summary>Null when <paramref name="user"/> may follow <paramref name="topic"/>; otherwise why not.</summary>
    public static string? WhyNot(ClaimsPrincipal user, string? topic)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (string.IsNullOrEmpty(topic) || !TopicPattern().IsMatch(topic))
        {
            return $"'{Shorten(topic)}' is not a topic: use an artifact reference such as 'experiment:42' or 'model:credit-risk'.";
        }

        var kind = topic.Split(':', 2)[0];
        if (topic == Security)
        {
            return user.IsInRole(Roles.Admin) ? null : "Only administrators can follow security events.";
        }

        if (topic == Demo)
        {
            return null;
        }

        if (kind == "user")
        {
            var name = topic.Length > 5 ? topic[5..] : "";
            return name == user.Identity?.Name || user.IsInRole(Roles.Admin) ? null : "You can follow only your own user topic.";
        }

        if (AreaOfKind.TryGetValue(kind, out var policy))
        {
            var area = PortalAreas.All.Single(a => a.Policy == policy);
            return area.Roles.Any(user.IsInRole) ? null : $"Following '{kind}' topics requires one of the roles {string.Join(", ", area.Roles)}.";
        }

        return $"There are no '{kind}' topics.";
    }

    /// <summary>The hub groups an event with this subject goes to: the subject and each prefix of it.</summary>
    public static IEnumerable<string> GroupsFor(string subject)
    {
        var parts = subject.Split(':');
        for (var i = parts.Length; i >= 1; i--)
        {
            yield return string.Join(':', parts.Take(i));
        }
    }

    private static string Shorten(string? topic) => topic is null ? "" : topic.Length <= 60 ? topic : topic[..60] + "…";
}
